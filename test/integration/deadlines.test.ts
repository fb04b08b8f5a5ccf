import { describe, expect, it } from "vitest";
import { postJson, seed } from "../support/emulator.js";
import { useOwnApp } from "../support/host.js";
import { upstreamDeployment } from "../support/model-api.js";
import { readEvents } from "../support/sse.js";

/** Deadlines that abort the upstream call: per attempt, between stream chunks, and the caller's own. */
const app = useOwnApp({
  MODEL_MAX_RETRIES: "0",
  MODEL_ATTEMPT_TIMEOUT_MS: "2500",
  MODEL_IDLE_TIMEOUT_MS: "1000",
  MODEL_TIMEOUT_MS: "10000",
  BREAKER_FAILURES: "100",
});

const fault = (...faults: unknown[]) => postJson(`${app.emulator.url}/_emulator/faults`, { faults });

describe("deadlines", () => {
  it("answers 504 when no headers ever come, at the attempt timeout, and closes the upstream request", async () => {
    await fault({ no_response: true });
    const { status, json } = await postJson(`${app.host.url}/api/chat/completions`, seed("chat.request"), { "api-key": "dev-key" });
    expect(status).toBe(504);
    expect(json.error.code).toBe("upstream_timeout");
    await expect.poll(() => app.emulator.emulator.log.entries()[0]?.outcome.closed_early).toBe(true);
  });

  it("ends a stream that stalls after 3 deltas with one error event at the idle timeout, closing the upstream socket", async () => {
    await fault({ stall_after_chunks: 4 });
    const response = await fetch(`${app.host.url}/api/chat/stream`, {
      method: "POST",
      headers: { "api-key": "dev-key", "content-type": "application/json" },
      body: JSON.stringify(seed("chat.request")),
    });
    const { events } = await readEvents(response);
    expect(events.map((e) => e.event)).toEqual(["start", "delta", "delta", "delta", "error"]);
    expect(events.at(-1)?.data.code).toBe("upstream_timeout");
    await expect.poll(() => app.emulator.emulator.log.entries()[0]?.outcome.closed_early).toBe(true);
  });

  it("keeps to a caller's shorter deadline from x-request-timeout-ms", async () => {
    await postJson(`${app.emulator.url}/_emulator/settings`, { ttft_ms: 5_000 });
    const started = Date.now();
    const { status, json } = await postJson(`${app.host.url}/api/chat`, seed("chat.request"), { "api-key": "dev-key", "x-request-timeout-ms": "1000" });
    expect(status).toBe(504);
    expect(json.code).toBe("upstream_timeout");
    // The attempt timeout is 2.5 s here: an answer before it is the caller's deadline at work.
    expect(Date.now() - started).toBeLessThan(2_400);
  });

  it("refuses a malformed x-request-timeout-ms before calling the model", async () => {
    const { status, json } = await postJson(`${app.host.url}/api/chat`, seed("chat.request"), { "api-key": "dev-key", "x-request-timeout-ms": "soon" });
    expect(status).toBe(400);
    expect(json.param).toBe("x-request-timeout-ms");
    expect(app.emulator.emulator.log.entries()).toHaveLength(0);
  });
});

/**
 * One deadline per request, fallback included: a fallback gets what is left of MODEL_TIMEOUT_MS, no
 * attempt starts after the caller's deadline, and a deadline that passes is a 504, never a 500.
 */
describe("one deadline per request, with fallback allowed", () => {
  const fallback = useOwnApp({
    MODEL_MAX_RETRIES: "0",
    MODEL_TIMEOUT_MS: "2000",
    MODEL_FALLBACK: "mistral-large:mistral-small",
    BREAKER_FAILURES: "100",
  });
  const silentPrimary = () =>
    postJson(`${fallback.emulator.url}/_emulator/faults`, { faults: [{ match: { deployment: "mistral-large" }, no_response: true, times: 10 }] });
  const ask = async (path: string, headers: Record<string, string> = {}) => {
    const started = Date.now();
    const answer = await postJson(`${fallback.host.url}/api${path}`, seed("chat.request"), { "api-key": "dev-key", "x-allow-fallback": "true", ...headers });
    return { ...answer, elapsed: Date.now() - started };
  };
  const codeOf = (path: string, json: any) => (path === "/chat/completions" ? json.error.code : json.code);

  it.each(["/chat", "/chat/completions"])(
    "%s: a silent primary uses the whole budget; the fallback gets nothing left, and the answer is a 504",
    async (path) => {
      await silentPrimary();
      const { status, json, elapsed } = await ask(path);
      expect(status).toBe(504);
      expect(codeOf(path, json)).toBe("upstream_timeout");
      // The whole request within one MODEL_TIMEOUT_MS (2 s), plus a margin for a busy machine.
      expect(elapsed).toBeLessThan(2_000 + 1_500);
      expect(elapsed).toBeGreaterThanOrEqual(1_900);
    },
  );

  it.each(["/chat", "/chat/completions", "/chat/stream"])(
    "%s: the caller's deadline passing is a 504 at that deadline, and no fallback starts after it",
    async (path) => {
      await silentPrimary();
      const { status, json, elapsed } = await ask(path, { "x-request-timeout-ms": "1000" });
      expect(status).toBe(504);
      expect(codeOf(path, json)).toBe("upstream_timeout");
      expect(elapsed).toBeLessThan(1_000 + 1_000);
      const paths = fallback.emulator.emulator.log.entries().map(upstreamDeployment);
      expect(paths).toEqual(["mistral-large"]);
    },
  );
});
