import { get } from "node:http";
import { resolve } from "node:path";
import { readSettingsFile } from "../../dev/stack/local-settings.js";
import { answers, freePort, type Service, spawnService, waitUntilReady } from "../../dev/stack/processes.js";

/** The services a bench run starts, each in its own process, and their settings. */
export const appRoot = resolve(__dirname, "..", "..", "..");

/** The model emulator on a free port (or the one given), rate limits lifted and tokens unpaced. */
export async function startEmulatorService(fixedPort?: number): Promise<{ service: Service; url: string }> {
  const port = fixedPort ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const service = spawnService("emulator", [resolve(appRoot, "dist/dev/emulator/main.js")], {
    env: { ...process.env, EMULATOR_PORT: String(port) },
    echo: false,
  });
  await waitUntilReady(service, () => answers(`${url}/_emulator/health`));
  await emulatorSettings(url, { ttft_ms: 0, token_delay_ms: 0, requests_per_minute: 1e9, tokens_per_minute: 1e12 });
  return { service, url };
}

/**
 * The app's sample settings, pointed at the bench's emulator and at a storage account of the bench's
 * own (an Azurite it started): never the sample's default Azurite, where a running `npm start` keeps
 * its jobs' queue, which a bench host would poll and take jobs from.
 */
export function hostSettings(emulatorUrl: string, storageConnectionString: string): Record<string, string> {
  const sample = readSettingsFile(resolve(appRoot, "local.settings.sample.json"));
  // Quotas off: the main figures are the proxy's own cost; the quotas variant measures theirs. The memory figure
  // holds 1,000 streams open through one instance at once, past the default 128 connections to one endpoint.
  const settings: Record<string, string> = { PATH: process.env.PATH ?? "", FUNCTIONS_HOST_QUIET: "true", QUOTAS: "off", MODEL_MAX_CONNECTIONS: "1024" };
  for (const [name, value] of Object.entries(sample)) settings[name] = value.replace("http://localhost:7072", emulatorUrl);
  settings.AzureWebJobsStorage = storageConnectionString;
  return settings;
}

/** Starts the functions host on the app in `appDir` and measures process start to the first 200 from /api/health. */
export async function startHost(settings: Record<string, string>, appDir = appRoot): Promise<{ service: Service; url: string; ms: number }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const started = process.hrtime.bigint();
  const service = spawnService("functions", [resolve(appRoot, "dist/dev/host/main.js"), appDir], {
    env: { ...settings, PORT: String(port) },
    echo: false,
    cwd: appDir,
  });
  for (;;) {
    if (service.child.exitCode !== null) throw new Error(`host exited:\n${service.output()}`);
    if ((await status(`${url}/api/health`)) === 200) break;
    await new Promise((r) => setTimeout(r, 2));
  }
  return { service, url, ms: Number(process.hrtime.bigint() - started) / 1e6 };
}

function status(url: string): Promise<number> {
  return new Promise((resolvePromise) => {
    const req = get(url, { agent: false }, (res) => {
      res.resume();
      resolvePromise(res.statusCode ?? 0);
    });
    req.on("error", () => resolvePromise(0));
  });
}

export async function emulatorSettings(emulatorUrl: string, settings: Record<string, number>): Promise<void> {
  const response = await fetch(`${emulatorUrl}/_emulator/settings`, { method: "POST", body: JSON.stringify(settings) });
  if (!response.ok) throw new Error(`emulator settings: ${response.status}`);
}

/** A plain text table: the first column padded to its widest, the others too, two spaces apart. */
export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  console.log(`\n${line(header)}`);
  console.log(line(widths.map((width) => "-".repeat(width))));
  for (const row of rows) console.log(line(row));
}
