import { Secret } from "./secret.js";
import type { SettingsReader } from "./settings-reader.js";
import type { StorageConfig } from "./types.js";

/**
 * `AzureWebJobsStorage`: `UseDevelopmentStorage=true` (Azurite), or an account connection string
 * naming the account and a key or SAS, or an explicit table endpoint.
 */
export function readStorage(settings: SettingsReader): StorageConfig | undefined {
  const value = settings.string("AzureWebJobsStorage", { required: true });
  if (value === undefined) return undefined;
  if (/^UseDevelopmentStorage=true;?$/i.test(value)) return { connectionString: new Secret(value) };
  const parts = new Map<string, string>();
  for (const part of value.split(";")) {
    const separator = part.indexOf("=");
    if (separator > 0) parts.set(part.slice(0, separator).trim().toLowerCase(), part.slice(separator + 1).trim());
  }
  const named = parts.has("accountname") && (parts.has("accountkey") || parts.has("sharedaccesssignature"));
  const endpoint = parts.has("tableendpoint") && (parts.has("accountkey") || parts.has("sharedaccesssignature"));
  if (!named && !endpoint) {
    return settings.problem(
      "AzureWebJobsStorage must be UseDevelopmentStorage=true or a storage connection string (AccountName with AccountKey or SharedAccessSignature)",
    );
  }
  return { connectionString: new Secret(value) };
}
