import { beforeAll, describe, expect, it } from "vitest";
import { postJson, seed, sseData } from "../support/emulator.js";
import { useOwnApp } from "../support/host.js";

/**
 * Every error of the drop-in route, in the SDK error shape with the right status: caller mistakes,
 * and upstream faults injected into an emulator of this test's own, before and after the first byte.
 * Retries are off here, so each fault's own mapping shows; retries.test.ts covers the retry loop.
 */
const CANARY_KEY = "canary-model-key-31c4";
const app = useOwnApp(
  { MODEL_MISTRAL_LARGE_KEY: CANARY_KEY, MODEL_MISTRAL_SMALL_KEY: CANARY_KEY, MODEL_TIMEOUT_MS: "3000", MODEL_MAX_RETRIES: "0" },
  { key: CANARY_KEY },
);
let api: string;
beforeAll(() => {
  api = `${app.host.url}/api/chat/completions`;
});

const fault = (...faults: unknown[]) => postJson(`${app.emulator.url}/_emulator/faults`, { faults });
const chat = (body: unknown, headers: Record<string, string> = { "api-key": "dev-key" }) => postJson(api, body, headers);

/** An SDK-shaped error that gives nothing away. */
function expectSafeError(json: any, code: string) {
  expect(Object.keys(json)).toEqual(["error"]);
  expect(json.error).toMatchObject({ code, message: expect.any(String), type: expect.any(String) });
  expect(json.error).toHaveProperty("param");
  const text = JSON.stringify(json);
  expect(text).not.toContain(CANARY_KEY);
  expect(text).not.toMatch(/127\.0\.0\.1|localhost|\bat \w+ \(|node_modules/);
}

describe("caller mistakes", () => {
  it("answers 400 for a body that is not JSON", async () => {
    const response = await fetch(api, { method: "POST", headers: { "api-key": "dev-key", "content-type": "application/json" }, body: "{not json" });
    expect(response.status).toBe(400);
    expectSafeError(await response.json(), "invalid_json");
  });

  it("answers 400 naming messages when they are missing", async () => {
    const { status, json } = await chat({ temperature: 0 });
    expect(status).toBe(400);
    expectSafeError(json, "invalid_request");
    expect(json.error.param).toBe("messages");
  });

  it("answers 415 for a body that is not sent as JSON", async () => {
    const response = await fetch(api, {
      method: "POST",
      headers: { "api-key": "dev-key", "content-type": "text/plain" },
      body: JSON.stringify(seed("chat.request")),
    });
    expect(response.status).toBe(415);
    expectSafeError(await response.json(), "unsupported_media_type");
  });

  it("refuses a max_tokens over the ceiling, and sends the ceiling when there is none", async () => {
    const { status, json } = await chat({ ...seed("chat.request"), max_tokens: 1_000_000 });
    expect(status).toBe(400);
    expectSafeError(json, "invalid_request");
    expect(json.error.param).toBe("max_tokens");
    expect(app.emulator.emulator.log.entries()).toHaveLength(0);
    expect((await chat(seed("chat.request"))).status).toBe(200);
    expect((app.emulator.emulator.log.entries()[0]?.body as { max_tokens: number }).max_tokens).toBe(4096);
  });

  it("answers 405 with Allow for a method other than POST, in the SDK error shape", async () => {
    const response = await fetch(api, { headers: { "api-key": "dev-key" } });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("POST");
    expectSafeError(await response.json(), "method_not_allowed");
  });

  it("answers 413 for a body over 1 MiB, before reading it all", async () => {
    const big = JSON.stringify({ messages: [{ role: "user", content: "x".repeat(1024 * 1024) }] });
    const { status, json } = await postJson(api, JSON.parse(big), { "api-key": "dev-key" });
    expect(status).toBe(413);
    expectSafeError(json, "payload_too_large");
  });

  it.each([
    ["no key", {}],
    ["a wrong api-key", { "api-key": "wrong" }],
    ["a wrong bearer token", { authorization: "Bearer wrong" }],
  ])("answers 401 for %s, in the SDK error shape", async (_name, headers) => {
    const { status, json, response } = await chat(seed("chat.request"), headers as Record<string, string>);
    expect(status).toBe(401);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expectSafeError(json, "unauthorized");
    expect(json.error.type).toBe("authentication_error");
    expect(app.emulator.emulator.log.entries()).toHaveLength(0);
  });
});

describe("upstream failures before the first byte", () => {
  it("passes the model's throttling on as 429 with Retry-After", async () => {
    await fault({
      status: 429,
      headers: { "retry-after": "12" },
      body: { error: { code: "429", message: "Rate limit is exceeded. Try again in 12 seconds." } },
    });
    const { status, json, response } = await chat(seed("chat.request"));
    expect(status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("12");
    expectSafeError(json, "rate_limited");
    expect(json.error.type).toBe("rate_limit_error");
  });

  it("answers 502 for an upstream 500 and 503 with Retry-After for an upstream 503", async () => {
    await fault({ status: 500 }, { status: 503, headers: { "retry-after": "4" } });
    const failed = await chat(seed("chat.request"));
    expect(failed.status).toBe(502);
    expectSafeError(failed.json, "upstream_error");
    const unavailable = await chat(seed("chat.request"));
    expect(unavailable.status).toBe(503);
    expect(unavailable.response.headers.get("retry-after")).toBe("4");
    expectSafeError(unavailable.json, "upstream_unavailable");
  });

  it("never shows the model refusing our key as the caller's 401", async () => {
    await fault({ status: 401 });
    const { status, json } = await chat(seed("chat.request"));
    expect(status).toBe(502);
    expectSafeError(json, "upstream_auth_failed");
  });

  it("answers 502 for an HTML error page, and the same for a stream request", async () => {
    await fault({ status: 502, body: "<html><body>Bad gateway at 10.1.2.3</body></html>" }, { status: 502, body: "<html>oops</html>" });
    const { status, json } = await chat(seed("chat.request"));
    expect(status).toBe(502);
    expectSafeError(json, "upstream_error");
    const streamed = await chat({ ...seed("chat.request"), stream: true });
    expect(streamed.status).toBe(502);
    expect(streamed.response.headers.get("content-type")).toMatch(/^application\/json/);
  });

  it("answers 504 when the model does not answer in time", async () => {
    await fault({ no_response: true });
    const { status, json } = await chat(seed("chat.request"));
    expect(status).toBe(504);
    expectSafeError(json, "upstream_timeout");
  });
});

describe("upstream failures after the first byte", () => {
  async function streamed() {
    const { status, text } = await chat({ ...seed("chat.request"), stream: true });
    expect(status).toBe(200);
    return sseData(text);
  }

  it("ends a stream whose connection resets with one error frame", async () => {
    await fault({ reset_after_chunks: 3 });
    const data = await streamed();
    expect(data).not.toContain("[DONE]");
    const last = JSON.parse(data.at(-1) as string);
    expectSafeError(last, "upstream_stream_broken");
    expect(data.slice(0, -1).every((d) => JSON.parse(d).choices)).toBe(true);
  });

  it("ends a stream that breaks off without [DONE] with an error frame", async () => {
    await fault({ omit_done: true });
    const data = await streamed();
    expectSafeError(JSON.parse(data.at(-1) as string), "upstream_stream_incomplete");
  });

  it("ends a stream with a malformed chunk with an error frame", async () => {
    await fault({ malformed_chunk: 2 });
    const data = await streamed();
    expectSafeError(JSON.parse(data.at(-1) as string), "bad_upstream_response");
    expect(data).toHaveLength(3);
  });

  it("does not pass on chunks with empty choices", async () => {
    await fault({ empty_choices_chunk: true });
    const data = await streamed();
    expect(data.at(-1)).toBe("[DONE]");
    expect(data.slice(0, -1).every((d) => JSON.parse(d).choices.length === 1)).toBe(true);
  });

  it("ends a stalled stream with a timeout error frame", async () => {
    await fault({ stall_after_chunks: 2 });
    const data = await streamed();
    expectSafeError(JSON.parse(data.at(-1) as string), "upstream_timeout");
  });
});
