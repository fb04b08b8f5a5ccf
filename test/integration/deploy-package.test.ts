import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createVaultCertificate } from "../../dev/keyvault/vault-certificate.js";
import { IngestionEndpoint } from "../../dev/telemetry/ingestion-endpoint.js";
import { BUNDLE, LOADED_ON_FIRST_USE, stagePackage } from "../../hooks/prepackage.mjs";
import { postJson, startEmulator } from "../support/emulator.js";
import { APP_ROOT, settingsFor, startHost } from "../support/host.js";

/**
 * The package `azd deploy` ships, staged as the prepackage hook stages it (from the build `npm test`
 * made), run by the local host as the worker runs it: from its own folder, which has no node_modules,
 * through the library's HTTP stream proxy as in Azure. Every feature whose modules load late (the
 * model SDKs, the storage clients, the queue-triggered job worker, telemetry with the exporters and
 * instrumentations it never uses left out) answers from it.
 */
const MAX_PACKAGE_BYTES = 30 * 1024 * 1024;

let dir: string;
let staged: string;
let certificate: Awaited<ReturnType<typeof createVaultCertificate>>;
let ingestion: IngestionEndpoint;
let emulator: Awaited<ReturnType<typeof startEmulator>>;
let host: Awaited<ReturnType<typeof startHost>>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "deploy-package-"));
  // The build is npm test's own; building again here would rewrite dist under the other test files.
  staged = await stagePackage({ projectDir: APP_ROOT, outDir: join(dir, "package"), run: () => undefined });
  certificate = await createVaultCertificate(["127.0.0.1", "localhost"], dir);
  ingestion = new IngestionEndpoint(certificate);
  const ingestionUrl = await ingestion.listen();
  emulator = await startEmulator();
  const suffix = randomBytes(4).toString("hex");
  const settings = settingsFor(inject("stackSettings"), emulator.url, {
    FUNCTIONS_HOST_MODE: "proxy",
    APPLICATIONINSIGHTS_CONNECTION_STRING: ingestion.connectionString(ingestionUrl),
    APPLICATION_INSIGHTS_NO_STATSBEAT: "true",
    NODE_EXTRA_CA_CERTS: certificate.caFile,
    JOB_QUEUE: `package-${suffix}`,
    JOB_TABLE: `package${suffix}`,
    JOB_CONTAINER: `package-${suffix}`,
    JOB_RETRY_AFTER_SECONDS: "1",
  });
  host = await startHost(settings, staged);
}, 60_000);

afterAll(async () => {
  await host?.stop();
  await emulator?.close();
  await ingestion?.close();
  await rm(dir, { recursive: true, force: true });
});

async function sizeOf(path: string): Promise<number> {
  const entries = await readdir(path, { withFileTypes: true });
  let bytes = 0;
  for (const entry of entries) bytes += entry.isDirectory() ? await sizeOf(join(path, entry.name)) : (await stat(join(path, entry.name))).size;
  return bytes;
}

describe("the deploy package", () => {
  it("is host.json, package.json, the app's bundle and one bundle per package loaded on first use, under 30 MB", async () => {
    expect((await readdir(staged)).sort()).toEqual([".funcignore", ".gitignore", "dist", "host.json", "node_modules", "package.json"]);
    expect(await readdir(join(staged, "dist"))).toEqual([BUNDLE.split("/")[1]]);
    for (const name of LOADED_ON_FIRST_USE) expect((await readdir(join(staged, "node_modules", name))).sort()).toEqual(["index.js", "package.json"]);
    const files = await readdir(join(staged, "node_modules"), { recursive: true, withFileTypes: true });
    expect(files.filter((f) => f.isFile())).toHaveLength(LOADED_ON_FIRST_USE.length * 2);
    expect(await sizeOf(staged)).toBeLessThan(MAX_PACKAGE_BYTES);
    // Telemetry's bundle leaves out what the app never uses (the OTLP exporters' gRPC stack, say).
    const telemetry = await readFile(join(staged, "node_modules", "applicationinsights", "index.js"), "utf8");
    // (includes, not toContain: a failure would print the whole bundle)
    expect(telemetry.includes("node_modules/@azure/monitor-opentelemetry-exporter/")).toBe(true);
    expect(telemetry.includes("node_modules/@grpc/grpc-js/")).toBe(false);
    expect(telemetry.includes("@opentelemetry/exporter-trace-otlp-grpc is not in the deploy package")).toBe(true);
  });

  it("registers every function the unbundled app registers", async () => {
    const [bundled, compiled] = await Promise.all(
      [host.url, inject("hostUrl")].map(async (url) => {
        // The host lists its functions as it starts; the routes answer the same either way.
        const answer = await fetch(`${url}/api/openapi.json`);
        return Object.keys(((await answer.json()) as { paths: Record<string, unknown> }).paths).sort();
      }),
    );
    expect(bundled).toEqual(compiled);
    expect(host.service.output()).toMatch(/chatJobWorker: queueTrigger/);
    expect(host.service.output()).toMatch(/chatJobSweeper: timerTrigger/);
  });

  it("answers chat, a stream and a job, and sends their telemetry", async () => {
    const dev = { "api-key": "dev-key" };
    const chat = await postJson(`${host.url}/api/chat/completions`, { messages: [{ role: "user", content: "How many languages are in the world?" }] }, dev);
    expect(chat.status).toBe(200);
    expect(chat.json.choices[0].message.content).toMatch(/7,000 languages/);

    const stream = await postJson(`${host.url}/api/chat/stream`, { messages: [{ role: "user", content: "How many languages are in the world?" }] }, dev);
    expect(stream.status).toBe(200);
    expect(stream.text).toContain("event: done");

    const job = await postJson(`${host.url}/api/chat/jobs`, { messages: [{ role: "user", content: "How many languages are in the world?" }] }, dev);
    expect(job.status).toBe(202);
    let polled = await fetch(`${host.url}/api/chat/jobs/${job.json.id}`, { headers: dev });
    for (let i = 0; i < 100 && polled.status === 202; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      polled = await fetch(`${host.url}/api/chat/jobs/${job.json.id}`, { headers: dev });
    }
    expect(polled.status).toBe(200);
    expect(((await polled.json()) as { message: { content: string } }).message.content).toMatch(/7,000 languages/);

    // The terminate hook flushes what telemetry holds.
    await host.stop();
    const requests = ingestion.envelopes().filter((e) => e.data?.baseType === "RequestData");
    const dependencies = ingestion.envelopes().filter((e) => e.data?.baseType === "RemoteDependencyData");
    expect(requests.length).toBeGreaterThanOrEqual(3);
    expect(dependencies.length).toBeGreaterThanOrEqual(3);
    // The app's own metrics too (token usage, durations), through the exporter the package keeps.
    expect(ingestion.envelopes().some((e) => e.data?.baseType === "MetricData")).toBe(true);
  });
});
