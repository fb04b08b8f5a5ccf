import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import { afterAll, beforeAll, beforeEach, inject } from "vitest";
import { answers, freePort, type Service, spawnService, waitUntilReady } from "../../dev/stack/processes.js";
import { startEmulator } from "./emulator.js";
import { throughModelApi } from "./model-api.js";

export const APP_ROOT = resolve(__dirname, "..", "..");
const HOST_MAIN = resolve(APP_ROOT, "dist", "dev", "host", "main.js");

/** A functions host of the test's own, with settings of its own, on a free port. */
export async function startHost(settings: Record<string, string>, appRoot = APP_ROOT): Promise<{ url: string; service: Service; stop: () => Promise<void> }> {
  const port = await freePort();
  const service = spawnService("functions", [HOST_MAIN, appRoot], {
    env: { PATH: process.env.PATH, ...settings, PORT: String(port) },
    echo: false,
    cwd: appRoot,
  });
  const url = `http://localhost:${port}`;
  await waitUntilReady(service, () => answers(`${url}/api/health`).catch(() => false), 20_000).catch(async (error) => {
    await service.stop();
    throw error;
  });
  return { url, service, stop: () => service.stop() };
}

/** Runs the host with settings it must refuse; resolves with its exit code and output. */
export function runHostToExit(settings: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [HOST_MAIN, APP_ROOT], {
      env: { PATH: process.env.PATH, ...settings, PORT: "0" },
      cwd: APP_ROOT,
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolvePromise({ code, output });
    });
  });
}

/** The app's settings with both deployments pointed at an emulator of the test's own, through the run's model API. */
export function settingsFor(base: Record<string, string>, emulatorUrl: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    ...throughModelApi(base, emulatorUrl),
    // Counters of its own: hosts of parallel test files would otherwise write the shared stack's rows
    // (same caller, same deployments) at once, and a busy machine can run their ETag retries out.
    QUOTA_TABLE: `testquotas${randomBytes(6).toString("hex")}`,
    ...overrides,
  };
}

/**
 * An emulator and a functions host of the test file's own (settings from the shared stack, both
 * deployments pointed at the emulator, `overrides` on top), started before the file's tests and
 * stopped after; the emulator is reset before each test.
 */
export function useOwnApp(overrides: Record<string, string> = {}, emulatorOptions: Parameters<typeof startEmulator>[0] = {}) {
  const app = {} as { emulator: Awaited<ReturnType<typeof startEmulator>>; host: Awaited<ReturnType<typeof startHost>> };
  beforeAll(async () => {
    app.emulator = await startEmulator(emulatorOptions);
    app.host = await startHost(settingsFor(inject("stackSettings"), app.emulator.url, overrides));
  });
  afterAll(async () => {
    await app.host?.stop();
    await app.emulator?.close();
  });
  beforeEach(() => app.emulator.emulator.reset());
  return app;
}
