import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { postJson, seed, startEmulator } from "../support/emulator.js";
import { settingsFor, startHost } from "../support/host.js";

/** A deployment that keeps failing is skipped for a cool-down, then one probe decides. */
let emulator: Awaited<ReturnType<typeof startEmulator>>;
let host: Awaited<ReturnType<typeof startHost>>;

beforeAll(async () => {
  emulator = await startEmulator();
  host = await startHost(
    settingsFor(inject("stackSettings"), emulator.url, { MODEL_MAX_RETRIES: "0", BREAKER_FAILURES: "2", BREAKER_COOLDOWN_MS: "400" }),
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
