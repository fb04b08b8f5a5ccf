import type { SettingsReader } from "./settings-reader.js";

export interface IdempotencyConfig {
  /** The table of keys and kept answers, in the app's storage account. */
  readonly table: string;
  /** How long a key and its answer are kept. */
  readonly retentionMs: number;
}

/** `IDEMPOTENCY_TABLE` (default `idempotency`) and `IDEMPOTENCY_RETENTION_HOURS` (default 24, as Logic Apps' retries stay well within a day). */
export function readIdempotency(settings: SettingsReader): IdempotencyConfig {
  const table = settings.tableName("IDEMPOTENCY_TABLE", "idempotency");
  const hours = settings.integer("IDEMPOTENCY_RETENTION_HOURS", 24, { min: 1, max: 720 });
  return { table, retentionMs: hours * 3_600_000 };
}
