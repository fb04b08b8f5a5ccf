import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { postJson, seed, startEmulator } from "../support/emulator.js";
import { settingsFor, startHost } from "../support/host.js";
import { upstreamDeployment } from "../support/model-api.js";

/** A deployment that keeps failing is skipped for a cool-down, then one probe decides. */
let emulator: Awaited<ReturnType<typeof startEmulator>>;
let host: Awaited<ReturnType<typeof startHost>>;

beforeAll(async () => {
  emulator = await startEmulator();
  host = await startHost(
    // One caller here: the rule that failures must come from two callers is tested in hostile-input.
    settingsFor(inject("stackSettings"), emulator.url, { MODEL_MAX_RETRIES: "0", BREAKER_FAILURES: "2", BREAKER_COOLDOWN_MS: "400", BREAKER_MIN_CALLERS: "1" }),
  );
});
afterAll(async () => {
  await host?.stop();
  await emulator?.close();
});

const chat = () => postJson(`${host.url}/api/chat/completions`, seed("chat.request"), { "api-key": "dev-key" });

describe("circuit breaker", () => {
  it("opens after repeated failures, fails fast without calling the model, then closes after a good probe", async () => {
    await postJson(`${emulator.url}/_emulator/faults`, { faults: [{ match: { deployment: "mistral-large" }, status: 500, times: 2 }] });
    expect((await chat()).status).toBe(502);
    expect((await chat()).status).toBe(502);
    const refused = await chat();
    expect(refused.status).toBe(503);
    expect(refused.json.error.code).toBe("upstream_unavailable");
    expect(Number(refused.response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(emulator.emulator.log.entries()).toHaveLength(2);

    await new Promise((resolve) => setTimeout(resolve, 450));
    expect((await chat()).status).toBe(200);
    expect((await chat()).status).toBe(200);
    expect(emulator.emulator.log.entries()).toHaveLength(4);
  });
});

describe("fallback", () => {
  let fallbackHost: Awaited<ReturnType<typeof startHost>>;
  beforeAll(async () => {
    fallbackHost = await startHost(
      settingsFor(inject("stackSettings"), emulator.url, { MODEL_MAX_RETRIES: "0", MODEL_FALLBACK: "mistral-large:mistral-small", BREAKER_FAILURES: "100" }),
    );
  });
  afterAll(() => fallbackHost?.stop());

  const ask = (body: unknown, headers: Record<string, string> = {}) =>
    postJson(`${fallbackHost.url}/api/chat/completions`, body, { "api-key": "dev-key", ...headers });
  const largeFails = () => postJson(`${emulator.url}/_emulator/faults`, { faults: [{ match: { deployment: "mistral-large" }, status: 500 }] });

  it("answers from the fallback deployment when the caller allows it, and says so", async () => {
    emulator.emulator.reset();
    await largeFails();
    const { status, json, response } = await ask(seed("chat.request"), { "x-allow-fallback": "true" });
    expect(status).toBe(200);
    expect(json.model).toBe("Mistral-Small");
    expect(response.headers.get("x-model-deployment")).toBe("mistral-small");
    expect(emulator.emulator.log.entries().map(upstreamDeployment)).toEqual(["mistral-large", "mistral-small"]);
  });

  it("does not fall back unless asked, and says which deployment answered", async () => {
    emulator.emulator.reset();
    await largeFails();
    expect((await ask(seed("chat.request"))).status).toBe(502);
    const ok = await ask(seed("chat.request"));
    expect(ok.response.headers.get("x-model-deployment")).toBe("mistral-large");
  });

  it("never falls back on a content filter", async () => {
    emulator.emulator.reset();
    const { status } = await ask(seed("content-filter.request"), { "x-allow-fallback": "true" });
    expect(status).toBe(400);
    expect(emulator.emulator.log.entries()).toHaveLength(1);
  });

  it("falls back for a stream before it starts, in the app contract too", async () => {
    emulator.emulator.reset();
    await largeFails();
    const response = await fetch(`${fallbackHost.url}/api/chat/stream`, {
      method: "POST",
      headers: { "api-key": "dev-key", "content-type": "application/json", "x-allow-fallback": "true" },
      body: JSON.stringify(seed("chat.request")),
    });
    expect(response.headers.get("x-model-deployment")).toBe("mistral-small");
    const text = await response.text();
    expect(text).toContain('"model":"mistral-small"');
    expect(text).toContain("event: done");
  });
});
