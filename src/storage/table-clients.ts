import type { TableClient, TableServiceClient, TableServiceClientOptions } from "@azure/data-tables";
import { isPlainLocal } from "../config/loopback.js";
import type { StorageConfig } from "../config/types.js";
import { appIdentity } from "../credentials/app-identity.js";

type Tables = typeof import("@azure/data-tables");

/** Loaded on first use: routes that never touch storage do not pay for the SDK at start-up. */
function tables(): Tables {
  // require, not import(): the CommonJS build, like the rest of the app.
  return require("@azure/data-tables") as Tables;
}

/**
 * One answer or one error, fast: callers retry what is worth retrying themselves, and a busy or absent
 * storage is theirs to judge. Plain http is for Azurite on this machine only.
 */
function options(url: string): TableServiceClientOptions {
  return { allowInsecureConnection: isPlainLocal(new URL(url)), retryOptions: { maxRetries: 0 } };
}

/** The account's table service, by connection string or by the app's managed identity. */
export function tableServiceClient(storage: StorageConfig, identityClientId?: string): TableServiceClient {
  const { TableServiceClient } = tables();
  if (storage.kind === "identity") {
    return new TableServiceClient(storage.tableEndpoint, appIdentity(storage.clientId ?? identityClientId), options(storage.tableEndpoint));
  }
  const connectionString = storage.connectionString.reveal();
  const url = TableServiceClient.fromConnectionString(connectionString).url;
  return TableServiceClient.fromConnectionString(connectionString, options(url));
}

/** One table of the account, by connection string or by the app's managed identity. */
export function tableClient(storage: StorageConfig, tableName: string, identityClientId?: string): TableClient {
  const { TableClient } = tables();
  if (storage.kind === "identity") {
    return new TableClient(storage.tableEndpoint, tableName, appIdentity(storage.clientId ?? identityClientId), options(storage.tableEndpoint));
  }
  const connectionString = storage.connectionString.reveal();
  const url = TableClient.fromConnectionString(connectionString, tableName).url;
  return TableClient.fromConnectionString(connectionString, tableName, options(url));
}
