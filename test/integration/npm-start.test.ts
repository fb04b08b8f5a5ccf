import { spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { freePort } from "../../dev/stack/processes.js";
import { APP_ROOT } from "../support/host.js";

/** What `npm start` runs after the build: the three services up, a working example printed, Ctrl-C stops all. */
describe("npm start", () => {
  it("starts Azurite, the emulator and the functions, prints working URLs, and stops everything on SIGINT", async () => {
    const ports = {
      PORT: await freePort(),
      EMULATOR_PORT: await freePort(),
      AZURITE_BLOB_PORT: await freePort(),
      AZURITE_QUEUE_PORT: await freePort(),
      AZURITE_TABLE_PORT: await freePort(),
      WEB_PORT: await freePort(),
      ISSUER_PORT: await freePort(),
    };
    // The sample settings, whatever a developer's own local.settings.json says.
    const env = {
      PATH: process.env.PATH,
      LOCAL_SETTINGS: "local.settings.sample.json",
      ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    };
    const child = spawn(process.execPath, [join(APP_ROOT, "dist", "dev", "start.js")], { env, cwd: APP_ROOT });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));

    try {
      await expect.poll(() => output, { timeout: 45_000, interval: 200 }).toContain("Press Ctrl-C to stop.");
      const api = `http://localhost:${ports.PORT}/api`;
      expect(output).toContain(`Functions    ${api}`);
      expect(output).toContain(`Emulator     http://localhost:${ports.EMULATOR_PORT}`);
      // The chat page, with its sign-in settings; the app lets the page's origin call it.
      expect(output).toContain(`Chat page    http://localhost:${ports.WEB_PORT}/`);
      const page = await fetch(`http://localhost:${ports.WEB_PORT}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('role="log"');
      const config = (await (await fetch(`http://localhost:${ports.WEB_PORT}/config.json`)).json()) as { apiBaseUrl: string; authority: string };
      expect(config.apiBaseUrl).toBe(api);
      expect(config.authority.startsWith(`https://localhost:${ports.ISSUER_PORT}/`)).toBe(true);
      const preflight = await fetch(`${api}/chat/stream`, {
        method: "OPTIONS",
        headers: {
          origin: `http://localhost:${ports.WEB_PORT}`,
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization,content-type",
        },
      });
      expect(preflight.headers.get("access-control-allow-origin")).toBe(`http://localhost:${ports.WEB_PORT}`);
      expect(output).toContain(`curl -H "api-key: dev-key" ${api}/info`);

      const ready = await fetch(`${api}/health/ready`);
      expect(ready.status).toBe(200);
      expect(output).toContain(`curl -H "api-key: dev-key" -H "content-type: application/json" ${api}/chat/completions`);
      const chat = await fetch(`${api}/chat/completions`, {
        method: "POST",
        headers: { "api-key": "dev-key", "content-type": "application/json" },
        body: JSON.stringify({ messages: [{ role: "user", content: "How many languages are in the world?" }] }),
      });
      expect(chat.status).toBe(200);
      // The job worker runs too: a queued job ends with its answer.
      const job = await fetch(`${api}/chat/jobs`, {
        method: "POST",
        headers: { "api-key": "dev-key", "content-type": "application/json" },
        body: JSON.stringify({ messages: [{ role: "user", content: "How many languages are in the world?" }] }),
      });
      expect(job.status).toBe(202);
      const location = job.headers.get("location") as string;
      await expect.poll(async () => (await fetch(location, { headers: { "api-key": "dev-key" } })).status, { timeout: 20_000, interval: 250 }).toBe(200);
      const info = await fetch(`${api}/info`, { headers: { "api-key": "dev-key" } });
      expect(((await info.json()) as { deployments: unknown[] }).deployments).toHaveLength(2);
      expect((await fetch(`${api}/info`)).status).toBe(401);
    } finally {
      child.kill("SIGINT");
    }
    expect(await exited).toBe(0);
    expect(output).toContain("Stopped.");
    for (const port of [ports.PORT, ports.EMULATOR_PORT, ports.AZURITE_TABLE_PORT, ports.WEB_PORT]) {
      await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
    }
  }, 60_000);

  it("refuses to start when the functions port is taken, instead of passing someone else's server off as its own", async () => {
    const busy = createServer((_req, res) => res.end("not ours")).listen(0, "127.0.0.1");
    await new Promise((r) => busy.once("listening", r));
    const taken = (busy.address() as AddressInfo).port;
    try {
      const env = {
        PATH: process.env.PATH,
        LOCAL_SETTINGS: "local.settings.sample.json",
        PORT: String(taken),
        EMULATOR_PORT: String(await freePort()),
        AZURITE_BLOB_PORT: String(await freePort()),
        AZURITE_QUEUE_PORT: String(await freePort()),
        AZURITE_TABLE_PORT: String(await freePort()),
        WEB_PORT: String(await freePort()),
        ISSUER_PORT: String(await freePort()),
      };
      const child = spawn(process.execPath, [join(APP_ROOT, "dist", "dev", "start.js")], { env, cwd: APP_ROOT });
      let output = "";
      child.stdout.on("data", (d: Buffer) => (output += d.toString()));
      child.stderr.on("data", (d: Buffer) => (output += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
      expect(code).toBe(1);
      expect(output).toContain(`Port ${taken}, for the functions host, is already in use. Stop what listens there or set PORT to another port.`);
      expect(output).not.toContain("Local stack is up");
    } finally {
      busy.close();
    }
  }, 60_000);
});
