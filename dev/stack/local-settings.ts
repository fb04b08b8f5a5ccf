import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

/**
 * The app settings for a local run: the file LOCAL_SETTINGS names (relative to the project), else
 * local.settings.json when the user has one (as `func start` reads it), else
 * local.settings.sample.json, which points at the local stack.
 */
export function readLocalSettings(appRoot: string, chosen?: string): { file: string; values: Record<string, string> } {
  const own = join(appRoot, "local.settings.json");
  const file = chosen ? resolve(appRoot, chosen) : existsSync(own) ? own : join(appRoot, "local.settings.sample.json");
  return { file, values: readSettingsFile(file) };
}

export function readSettingsFile(file: string): Record<string, string> {
  const parsed = JSON.parse(readFileSync(file, "utf8")) as { Values?: Record<string, string> };
  return parsed.Values ?? {};
}

/** Azurite's well-known development account (public, documented by Microsoft; not a secret). */
const DEV_ACCOUNT = "devstoreaccount1";
const DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

export interface AzuritePorts {
  blob: number;
  queue: number;
  table: number;
}

export const DEFAULT_AZURITE_PORTS: AzuritePorts = { blob: 10000, queue: 10001, table: 10002 };

/** `UseDevelopmentStorage=true` spelled out, for Azurite on ports other than the default ones. */
export function azuriteConnectionString(ports: AzuritePorts): string {
  return [
    "DefaultEndpointsProtocol=http",
    `AccountName=${DEV_ACCOUNT}`,
    `AccountKey=${DEV_KEY}`,
    `BlobEndpoint=http://127.0.0.1:${ports.blob}/${DEV_ACCOUNT}`,
    `QueueEndpoint=http://127.0.0.1:${ports.queue}/${DEV_ACCOUNT}`,
    `TableEndpoint=http://127.0.0.1:${ports.table}/${DEV_ACCOUNT}`,
  ].join(";");
}
