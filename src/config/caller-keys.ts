import type { SettingsReader } from "./settings-reader.js";
import type { CallerKeyConfig } from "./types.js";

const NAME = /^[A-Za-z0-9._-]{1,64}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/i;

/** `CALLER_KEYS` = `name:sha256hex,name:sha256hex`; only hashes are configured, never keys. */
export function readCallerKeys(settings: SettingsReader): CallerKeyConfig[] {
  const keys: CallerKeyConfig[] = [];
  const names = new Set<string>();
  // Filled from Key Vault in Azure; unresolved, no key matches and readiness says why (fail closed).
  if (settings.secret("CALLER_KEYS", { required: false }) === "unresolved") return keys;
  for (const entry of settings.list("CALLER_KEYS", { required: false })) {
    const separator = entry.indexOf(":");
    const name = entry.slice(0, separator);
    const hash = entry.slice(separator + 1);
    if (separator < 0 || !NAME.test(name) || !SHA256_HEX.test(hash)) {
      settings.problem(
        `CALLER_KEYS: each entry must be name:sha256-hex (name of letters, digits, . _ -; 64 hex digits)` +
          (NAME.test(name) ? `; the entry for "${name}" is not` : ""),
      );
      continue;
    }
    if (names.has(name)) {
      settings.problem(`CALLER_KEYS names "${name}" more than once`);
      continue;
    }
    names.add(name);
    keys.push({ name, sha256: Buffer.from(hash, "hex") });
  }
  return keys;
}
