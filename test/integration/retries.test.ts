import { describe, expect, it } from "vitest";
import { postJson, seed } from "../support/emulator.js";
import { useOwnApp } from "../support/host.js";

/**
 * The one retry loop, at the model seam, seen from the caller and in the emulator's request log:
 * what is retried, how long it waits, and what the caller hears when retries run out.
 */
const app = useOwnApp({ MODEL_MAX_RETRIES: "2", MODEL_RETRY_BASE_DELAY_MS: "10", MODEL_TIMEOUT_MS: "5000" });

const fault = (...faults: unknown[]) => postJson(`${app.emulator.url}/_emulator/faults`, { faults });
const chat = (body: unknown = seed("chat.request")) => postJson(`${app.host.url}/api/chat/completions`, body, { "api-key": "dev-key" });
const attempts = () => app.emulator.emulator.log.entries();

describe("retries", () => {
  it("waits out a 429's Retry-After of 1 s, then answers", async () => {
    await fault({ status: 429, headers: { "retry-after": "1" } });
    const { status } = await chat();
    expect(status).toBe(200);
    const [first, second] = attempts();
    expect(attempts()).toHaveLength(2);
    expect(Date.parse(second?.time ?? "") - Date.parse(first?.time ?? "")).toBeGreaterThanOrEqual(950);
  });

  it("answers a 429 whose Retry-After is longer than the budget at once, with that Retry-After", async () => {
    await fault({ status: 429, headers: { "retry-after": "86400" } });
    const started = Date.now();
    const { status, response } = await chat();
    expect(status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("86400");
    expect(attempts()).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("retries 500 and 502, and answers on the third attempt", async () => {
    await fault({ status: 500 }, { status: 502 });
    const { status, json } = await chat();
    expect(status).toBe(200);
    expect(json.choices[0].message.content).toBe(seed("chat.response").choices[0].message.content);
    expect(attempts()).toHaveLength(3);
  });

  it("gives up after 1 + MODEL_MAX_RETRIES attempts with 503 upstream_unavailable and a Retry-After", async () => {
    await fault({ status: 500, times: 10 });
    const { status, json, response } = await chat();
    expect(status).toBe(503);
    expect(json.error.code).toBe("upstream_unavailable");
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(attempts()).toHaveLength(3);
  });

  it("never retries a content filter, the model refusing our key, or a caller's mistake", async () => {
    expect((await chat(seed("content-filter.request"))).status).toBe(400);
    await fault({ status: 401 });
    expect((await chat()).status).toBe(502);
    // Within the drop-in route's own range (0 to 2), outside the model's (0 to 1): the model refuses it.
    expect((await chat({ messages: [{ role: "user", content: "Hi" }], temperature: 1.5 })).status).toBe(422);
    expect(attempts()).toHaveLength(3);
  });

  it("retries a stream only before it starts", async () => {
    await fault({ status: 503 }, { reset_after_chunks: 2 });
    const { status, text } = await chat({ ...seed("chat.request"), stream: true });
    expect(status).toBe(200);
    expect(text).toContain('"code":"upstream_stream_broken"');
    expect(attempts()).toHaveLength(2);
  });
});
