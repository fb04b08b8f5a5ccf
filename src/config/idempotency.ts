import type { SettingsReader } from "./settings-reader.js";

const TABLE_NAME = /^[A-Za-z][A-Za-z0-9]{2,62}$/;

export interface IdempotencyConfig {
  /** The table of keys and kept answers, in the app's storage account. */
  readonly table: string;
  /** How long a key and its answer are kept. */
  readonly retentionMs: number;
}

/** `IDEMPOTENCY_TABLE` (default `idempotency`) and `IDEMPOTENCY_RETENTION_HOURS` (default 24, as Logic Apps' retries stay well within a day). */
export function readIdempotency(settings: SettingsReader): IdempotencyConfig {
  const table = settings.string("IDEMPOTENCY_TABLE", { required: false }) ?? "idempotency";
  if (!TABLE_NAME.test(table)) settings.problem("IDEMPOTENCY_TABLE must be 3 to 63 letters and digits, starting with a letter");
  const hours = settings.integer("IDEMPOTENCY_RETENTION_HOURS", 24, { min: 1, max: 720 });
  return { table, retentionMs: hours * 3_600_000 };
}
