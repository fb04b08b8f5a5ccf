import { createHash } from "node:crypto";
import { describe, expect, inject, it } from "vitest";
import { postJson, seed } from "../support/emulator.js";
import { useOwnApp } from "../support/host.js";
import { admittedRequests } from "../support/quota-rows.js";

/**
 * Idempotency-Key on POST /api/chat and the drop-in JSON route: a retried request with the same key and
 * body gets the first answer back, and the model, the tools and the quotas see one request.
 */
const OTHER_KEY = "idempotency-other-caller";
const quotaTable = `idemquotas${Date.now().toString(36)}`;
const app = useOwnApp({
  MODEL_MAX_RETRIES: "0",
  QUOTA_TABLE: quotaTable,
  CALLER_KEYS: `${inject("stackSettings").CALLER_KEYS},other:${createHash("sha256").update(OTHER_KEY).digest("hex")}`,
  IDEMPOTENCY_TABLE: `idem${Date.now().toString(36)}`,
  CALLER_QUOTAS: "dev:1000/10000000",
  // The quota rows count admissions exactly only without leases held ahead (quotas.test.ts has those).
  QUOTA_LEASE_PERCENT: "0",
});

const dev = { "api-key": "dev-key" };
let keys = 0;
const newKey = () => `order-${process.pid}-${++keys}`;
const post = (path: string, body: unknown, headers: Record<string, string>) => postJson(`${app.host.url}/api${path}`, body, { ...dev, ...headers });
const modelCalls = () => app.emulator.emulator.log.entries().filter((entry) => entry.path.endsWith("/chat/completions")).length;
const fault = (...faults: unknown[]) => postJson(`${app.emulator.url}/_emulator/faults`, { faults });
const hello = { messages: [{ role: "user", content: "How many languages are in the world?" }] };

describe("Idempotency-Key", () => {
  it("/api/chat: a retry gets the first answer, marked as replayed, and the model is called once", async () => {
    const key = newKey();
    const first = await post("/chat", hello, { "idempotency-key": key });
    expect(first.status).toBe(200);
    expect(first.response.headers.get("idempotent-replayed")).toBeNull();
    const again = await post("/chat", hello, { "idempotency-key": key });
    expect(again.status).toBe(200);
    expect(again.response.headers.get("idempotent-replayed")).toBe("true");
    expect(again.response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(again.json).toEqual(first.json);
    expect(again.response.headers.get("x-model-deployment")).toBe("mistral-large");
    expect(modelCalls()).toBe(1);
  });

  it("server tools run once: a replay makes no model call and runs no tool", async () => {
    const key = newKey();
    const flights = { messages: seed("tools.request").messages, server_tools: ["get_flight_info"] };
    const first = await post("/chat", flights, { "idempotency-key": key });
    expect(first.status).toBe(200);
    expect(first.json.steps.length).toBeGreaterThan(0);
    const calls = modelCalls();
    expect(calls).toBeGreaterThanOrEqual(2);
    const again = await post("/chat", flights, { "idempotency-key": key });
    expect(again.json.steps).toEqual(first.json.steps);
    expect(modelCalls()).toBe(calls);
  });

  it("charges the caller's quota once", async () => {
    const key = newKey();
    const before = await admittedRequests(quotaTable);
    await post("/chat", hello, { "idempotency-key": key });
    await post("/chat", hello, { "idempotency-key": key });
    expect(await admittedRequests(quotaTable)).toBe(before + 1);
    await post("/chat", hello, { "idempotency-key": newKey() });
    expect(await admittedRequests(quotaTable)).toBe(before + 2);
  });

  it("the same key with another body is a 422, and nothing runs", async () => {
    const key = newKey();
    await post("/chat", hello, { "idempotency-key": key });
    const other = await post("/chat", { messages: [{ role: "user", content: "Something else" }] }, { "idempotency-key": key });
    expect(other.status).toBe(422);
    expect(other.json.code).toBe("idempotency_key_reused");
    expect(modelCalls()).toBe(1);
  });

  it("while the first request runs, a retry is a 409 with Retry-After; after it, the answer is replayed", async () => {
    const key = newKey();
    await fault({ match: { path: "/chat/completions" }, delay_ms: 1_500, times: 1 });
    const first = post("/chat", hello, { "idempotency-key": key });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const during = await post("/chat", hello, { "idempotency-key": key });
    expect(during.status).toBe(409);
    expect(during.json.code).toBe("request_in_progress");
    expect(Number(during.response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await first).status).toBe(200);
    const after = await post("/chat", hello, { "idempotency-key": key });
    expect(after.response.headers.get("idempotent-replayed")).toBe("true");
    expect(modelCalls()).toBe(1);
  });

  it("a failure of the model is not kept: the retry runs again and can succeed", async () => {
    const key = newKey();
    await fault({ match: { path: "/chat/completions" }, status: 500, times: 1 });
    expect((await post("/chat", hello, { "idempotency-key": key })).status).toBe(502);
    const retry = await post("/chat", hello, { "idempotency-key": key });
    expect(retry.status).toBe(200);
    expect(retry.response.headers.get("idempotent-replayed")).toBeNull();
    expect(modelCalls()).toBe(2);
  });

  it("a caller's mistake the model reported is kept and replayed as it was", async () => {
    const key = newKey();
    const first = await post("/chat/completions", { ...hello, temperature: 1.5 }, { "idempotency-key": key });
    expect(first.status).toBe(422);
    const again = await post("/chat/completions", { ...hello, temperature: 1.5 }, { "idempotency-key": key });
    expect(again.status).toBe(422);
    expect(again.json).toEqual(first.json);
    expect(again.response.headers.get("idempotent-replayed")).toBe("true");
    expect(modelCalls()).toBe(1);
  });

  it("the drop-in JSON route replays too, with its errors in the SDK shape", async () => {
    const key = newKey();
    const first = await post("/v1/chat/completions", hello, { "idempotency-key": key });
    expect(first.status).toBe(200);
    const again = await post("/chat/completions", hello, { "idempotency-key": key });
    expect(again.json).toEqual(first.json);
    expect(again.response.headers.get("idempotent-replayed")).toBe("true");
    const reused = await post("/chat/completions", { ...hello, max_tokens: 5 }, { "idempotency-key": key });
    expect(reused.status).toBe(422);
    expect(reused.json.error.code).toBe("idempotency_key_reused");
    expect(modelCalls()).toBe(1);
  });

  it("keys are the caller's own: another caller's request with the same key runs", async () => {
    const key = newKey();
    await post("/chat", hello, { "idempotency-key": key });
    const other = await post("/chat", hello, { "idempotency-key": key, "api-key": OTHER_KEY });
    expect(other.status).toBe(200);
    expect(other.response.headers.get("idempotent-replayed")).toBeNull();
    expect(modelCalls()).toBe(2);
  });

  it("refuses a key on a streamed request, and a key that is not 1 to 255 printable ASCII characters; takes any that is", async () => {
    const stream = await post("/chat/stream", hello, { "idempotency-key": newKey() });
    expect(stream.status).toBe(400);
    expect(stream.json.param).toBe("Idempotency-Key");
    const dropInStream = await post("/chat/completions", { ...hello, stream: true }, { "idempotency-key": newKey() });
    expect(dropInStream.status).toBe(400);
    expect(dropInStream.json.error.param).toBe("Idempotency-Key");
    const slashes = await post("/chat", hello, { "idempotency-key": "/".repeat(255) });
    expect(slashes.status).toBe(200);
    expect((await post("/chat", hello, { "idempotency-key": "/".repeat(255) })).response.headers.get("idempotent-replayed")).toBe("true");
    const long = await post("/chat", hello, { "idempotency-key": "k".repeat(256) });
    expect(long.status).toBe(400);
    expect(long.json.param).toBe("Idempotency-Key");
    expect(modelCalls()).toBe(1);
  });
});
