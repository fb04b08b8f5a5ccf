import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createVaultCertificate } from "../../dev/keyvault/vault-certificate.js";
import { azuriteConnectionString } from "../../dev/stack/local-settings.js";
import { answers, freePort, type Service, spawnService, waitUntilReady } from "../../dev/stack/processes.js";
import { IngestionEndpoint } from "../../dev/telemetry/ingestion-endpoint.js";
import { appRoot } from "./services.js";

/** Settings that turn one feature on for a bench variant, and what must be stopped afterwards. */
export interface Variant {
  settings: Record<string, string>;
  stop(): Promise<void>;
}

/** An Azurite of the bench's own, in memory, on free ports. */
export async function startAzurite(): Promise<{ connectionString: string; stop: () => Promise<void> }> {
  const ports = { blob: await freePort(), queue: await freePort(), table: await freePort() };
  const azurite: Service = spawnService(
    "azurite",
    [
      join(appRoot, "node_modules", "azurite", "dist", "src", "azurite.js"),
      "--silent",
      "--inMemoryPersistence",
      "--disableTelemetry",
      "--skipApiVersionCheck",
      "--blobPort",
      String(ports.blob),
      "--queuePort",
      String(ports.queue),
      "--tablePort",
      String(ports.table),
    ],
    { env: process.env, echo: false, cwd: appRoot },
  );
  await waitUntilReady(azurite, () => answers(`http://127.0.0.1:${ports.table}/devstoreaccount1?restype=service&comp=properties`).catch(() => false));
  return { connectionString: azuriteConnectionString(ports), stop: () => azurite.stop() };
}

/** Quotas on, their counters in an Azurite of the bench's own (limits far above the load). */
export async function quotasVariant(): Promise<Variant> {
  const azurite = await startAzurite();
  return {
    settings: {
      QUOTAS: "on",
      AzureWebJobsStorage: azurite.connectionString,
      QUOTA_CALLER_REQUESTS_PER_MINUTE: "100000000",
      QUOTA_CALLER_TOKENS_PER_MINUTE: "100000000",
      MODEL_MISTRAL_LARGE_REQUESTS_PER_MINUTE: "100000000",
      MODEL_MISTRAL_LARGE_TOKENS_PER_MINUTE: "100000000",
    },
    stop: azurite.stop,
  };
}

/** Telemetry on, sent to a local ingestion endpoint over HTTPS (as the exporter always sends). */
export async function telemetryVariant(): Promise<Variant & { envelopes: () => number }> {
  const dir = await mkdtemp(join(tmpdir(), "bench-telemetry-"));
  const certificate = await createVaultCertificate(["127.0.0.1", "localhost"], dir);
  const ingestion = new IngestionEndpoint(certificate);
  const url = await ingestion.listen();
  return {
    settings: {
      APPLICATIONINSIGHTS_CONNECTION_STRING: ingestion.connectionString(url),
      APPLICATION_INSIGHTS_NO_STATSBEAT: "true",
      NODE_EXTRA_CA_CERTS: certificate.caFile,
    },
    envelopes: () => ingestion.envelopes().length,
    stop: async () => {
      await ingestion.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
