import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ManagedIdentityEndpoint } from "../../dev/identity/managed-identity-endpoint.js";
import { createVaultCertificate } from "../../dev/keyvault/vault-certificate.js";
import { freePort, type Service, spawnService, waitUntilReady } from "../../dev/stack/processes.js";
import { postJson, startEmulator } from "../support/emulator.js";
import { APP_ROOT, settingsFor, startHost } from "../support/host.js";

/**
 * Storage reached as in Azure: no account key anywhere, the app's managed identity instead
 * (`AzureWebJobsStorage__*`). Azurite over HTTPS with OAuth checks the token the real credential got
 * from the local identity endpoint; readiness and quotas both go through it.
 */
const APP = "5b2d1e7f-0000-4000-8000-0000000000b1";
const signingKey = randomBytes(32).toString("hex");
let dir: string;
let azurite: Service;
let tablePort: number;
let queuePort: number;
let blobPort: number;
let identity: ManagedIdentityEndpoint;
let caFile: string;

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.destroy();
      resolve(true);
    }).on("error", () => resolve(false));
  });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "storage-identity-"));
  const certificate = await createVaultCertificate(["localhost", "127.0.0.1"], dir);
  caFile = certificate.caFile;
  await writeFile(join(dir, "cert.pem"), certificate.cert);
  await writeFile(join(dir, "key.pem"), certificate.key);
  tablePort = await freePort();
  queuePort = await freePort();
  blobPort = await freePort();
  azurite = spawnService(
    "azurite",
    [
      join(APP_ROOT, "node_modules", "azurite", "dist", "src", "azurite.js"),
      "--silent",
      "--inMemoryPersistence",
      "--disableTelemetry",
      "--skipApiVersionCheck",
      "--oauth",
      "basic",
      "--cert",
      join(dir, "cert.pem"),
      "--key",
      join(dir, "key.pem"),
      "--blobPort",
      String(blobPort),
      "--queuePort",
      String(queuePort),
      "--tablePort",
      String(tablePort),
    ],
    { env: process.env, echo: false, cwd: dir },
  );
  await waitUntilReady(azurite, () => listening(tablePort));
  identity = new ManagedIdentityEndpoint({ signingKey, identities: [{ clientId: APP }] });
  await identity.listen();
});

afterAll(async () => {
  await identity?.close();
  await azurite?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("storage by managed identity", () => {
  it("checks readiness and keeps quota counters with the app's token, never an account key", async () => {
    const emulator = await startEmulator();
    const settings = settingsFor(inject("stackSettings"), emulator.url, {
      AzureWebJobsStorage__tableServiceUri: `https://127.0.0.1:${tablePort}/devstoreaccount1`,
      AzureWebJobsStorage__queueServiceUri: `https://127.0.0.1:${queuePort}/devstoreaccount1`,
      AzureWebJobsStorage__blobServiceUri: `https://127.0.0.1:${blobPort}/devstoreaccount1`,
      AzureWebJobsStorage__credential: "managedidentity",
      AzureWebJobsStorage__clientId: APP,
      CALLER_QUOTAS: "dev:10/100000",
      NODE_EXTRA_CA_CERTS: caFile,
      ...identity.env(),
    });
    delete settings.AzureWebJobsStorage;
    const host = await startHost(settings);
    try {
      const ready = await fetch(`${host.url}/api/health/ready`);
      const { checks } = (await ready.json()) as { checks: { name: string; status: string; detail?: string }[] };
      expect(checks.find((c) => c.name === "storage")).toMatchObject({ status: "ok" });
      expect(checks.find((c) => c.name === "queue")).toMatchObject({ status: "ok" });
      const ask = () => postJson(`${host.url}/api/chat/completions`, { messages: [{ role: "user", content: "Hi" }], max_tokens: 5 }, { "api-key": "dev-key" });
      const first = await ask();
      const second = await ask();
      expect([first.status, second.status]).toEqual([200, 200]);
      // The counter lives in Azurite: the second call sees the first one's request.
      expect(first.response.headers.get("x-ratelimit-remaining-requests")).toBe("9");
      expect(second.response.headers.get("x-ratelimit-remaining-requests")).toBe("8");
      expect(identity.requests().map((r) => [r.resource, r.clientId, r.status])).toContainEqual(["https://storage.azure.com", APP, 200]);
      // A job is queued, and its row written, with the same token. (The local host's queue trigger reads
      // by connection string only, so this host does not run it: it stays queued.)
      const job = await postJson(`${host.url}/api/chat/jobs`, { messages: [{ role: "user", content: "Hi" }], max_tokens: 5 }, { "api-key": "dev-key" });
      expect(job.status).toBe(202);
      const polled = await fetch(job.response.headers.get("location") as string, { headers: { "api-key": "dev-key" } });
      expect(polled.status).toBe(202);
      expect(await polled.json()).toEqual({ id: job.json.id, status: "queued" });
    } finally {
      await host.stop();
      await emulator.close();
    }
  });
});
