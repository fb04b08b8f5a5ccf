import { Secret } from "./secret.js";
import type { SettingsReader } from "./settings-reader.js";
import type { StorageConfig } from "./types.js";

const ACCOUNT_NAME = /^[a-z0-9]{3,24}$/;

/**
 * The app's storage account, as the Functions host names it: `AzureWebJobsStorage` with a connection
 * string (`UseDevelopmentStorage=true` for Azurite, or one naming the account and a key or SAS), or the
 * identity-based form Azure deployments use, `AzureWebJobsStorage__accountName` (or
 * `AzureWebJobsStorage__tableServiceUri`) with `AzureWebJobsStorage__credential=managedidentity` and
 * `AzureWebJobsStorage__clientId`: no key anywhere.
 */
export function readStorage(settings: SettingsReader): StorageConfig | undefined {
  const value = settings.string("AzureWebJobsStorage", { required: false });
  if (value === undefined) return readIdentityStorage(settings);
  if (/^UseDevelopmentStorage=true;?$/i.test(value)) return { kind: "connectionString", connectionString: new Secret(value) };
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
  return { kind: "connectionString", connectionString: new Secret(value) };
}

function readIdentityStorage(settings: SettingsReader): StorageConfig | undefined {
  const account = settings.string("AzureWebJobsStorage__accountName", { required: false });
  const tableUri = settings.string("AzureWebJobsStorage__tableServiceUri", { required: false });
  if (account === undefined && tableUri === undefined) {
    return settings.problem("AzureWebJobsStorage is required but not set (or AzureWebJobsStorage__accountName, for a connection by identity)");
  }
  const credential = settings.string("AzureWebJobsStorage__credential", { required: false });
  if (credential !== undefined && credential.toLowerCase() !== "managedidentity") {
    settings.problem("AzureWebJobsStorage__credential must be managedidentity");
  }
  const clientId = settings.string("AzureWebJobsStorage__clientId", { required: false });
  let tableEndpoint: string;
  if (tableUri !== undefined) {
    const url = serviceUri(settings, "AzureWebJobsStorage__tableServiceUri", tableUri);
    if (url === undefined) return undefined;
    tableEndpoint = url;
  } else {
    if (!ACCOUNT_NAME.test(account ?? ""))
      return settings.problem("AzureWebJobsStorage__accountName must be a storage account name (3 to 24 lowercase letters and digits)");
    tableEndpoint = `https://${account}.table.core.windows.net`;
  }
  const queueEndpoint = otherService(settings, "queue", account, tableEndpoint);
  const blobEndpoint = otherService(settings, "blob", account, tableEndpoint);
  return {
    kind: "identity",
    tableEndpoint,
    ...(queueEndpoint ? { queueEndpoint } : {}),
    ...(blobEndpoint ? { blobEndpoint } : {}),
    ...(clientId ? { clientId } : {}),
  };
}

/**
 * The queue or blob service, as the Functions host finds it: its own `__queueServiceUri` or
 * `__blobServiceUri`, else from the account name, else beside a `*.table.core.windows.net` table
 * service. Without one, the jobs that need it answer 503 (readiness names the gap).
 */
function otherService(settings: SettingsReader, service: "queue" | "blob", account: string | undefined, tableEndpoint: string): string | undefined {
  const name = `AzureWebJobsStorage__${service}ServiceUri`;
  const own = settings.string(name, { required: false });
  if (own !== undefined) return serviceUri(settings, name, own);
  if (account !== undefined && ACCOUNT_NAME.test(account)) return `https://${account}.${service}.core.windows.net`;
  const table = new URL(tableEndpoint);
  if (table.hostname.endsWith(".table.core.windows.net")) return `https://${table.hostname.replace(".table.", `.${service}.`)}`;
  return undefined;
}

function serviceUri(settings: SettingsReader, name: string, value: string): string | undefined {
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (url?.protocol !== "https:" || url.search || url.hash) return settings.problem(`${name} must be an https URL`);
  return url.href.replace(/\/+$/, "");
}
