import { describe, expect, it } from "vitest";
import { postJson, seed } from "../support/emulator.js";
import { useOwnApp } from "../support/host.js";
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
