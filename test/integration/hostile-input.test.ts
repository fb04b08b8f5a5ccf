import { createHash } from "node:crypto";
import { describe, expect, inject, it } from "vitest";
import { EMULATOR_KEY, postJson } from "../support/emulator.js";
import { useOwnApp } from "../support/host.js";

/**
 * What one caller holding a valid key could do to everyone else, each case as it was reproduced: crash
 * the process, freeze the event loop, open a deployment's circuit for all, spend past its quota, fan
 * out into hundreds of tool calls, or read internals in an error. Each answer is checked with the
 * process still alive, /api/health answering within a second meanwhile, and the model's request log.
 */
const OTHER_KEY = "other-caller-key";
const otherEntry = `other:${createHash("sha256").update(OTHER_KEY).digest("hex")}`;
const app = useOwnApp({
  CALLER_KEYS: `${inject("stackSettings").CALLER_KEYS},${otherEntry}`,
  MODEL_MAX_RETRIES: "0",
  BREAKER_FAILURES: "5",
  BREAKER_COOLDOWN_MS: "60000",
  MODEL_ATTEMPT_TIMEOUT_MS: "1500",
  // The sample's per-caller default, which the stack raises for parallel test files.
  QUOTA_CALLER_REQUESTS_PER_MINUTE: "500",
  QUOTA_CALLER_TOKENS_PER_MINUTE: "100000",
});

const mallory = { "api-key": "dev-key" };
const alice = { "api-key": OTHER_KEY };
const hello = [{ role: "user", content: "Hi" }];
const post = (path: string, body: unknown, headers: Record<string, string> = mallory) => postJson(`${app.host.url}/api${path}`, body, headers);
const modelCalls = () => app.emulator.emulator.log.entries().filter((entry) => entry.path.endsWith("/chat/completions"));
const fault = (...faults: unknown[]) => postJson(`${app.emulator.url}/_emulator/faults`, { faults });

/**
 * Runs `hostile` while polling /api/health; resolves with its result and the slowest health answer.
 * The process must still be running afterwards.
 */
async function whileHealthy<T>(hostile: () => Promise<T>): Promise<{ result: T; slowestHealthMs: number }> {
  let slowest = 0;
  let done = false;
  const poll = (async () => {
    while (!done) {
      const started = performance.now();
      const response = await fetch(`${app.host.url}/api/health`);
      expect(response.status).toBe(200);
      slowest = Math.max(slowest, performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  try {
    return { result: await hostile(), slowestHealthMs: slowest };
  } finally {
    done = true;
    await poll;
    expect(app.host.service.child.exitCode, app.host.service.output()).toBeNull();
    expect((await fetch(`${app.host.url}/api/health`)).status).toBe(200);
  }
}

const jsonSchema = (schema: unknown) => ({ type: "json_schema", json_schema: { name: "answer", schema } });

describe("a caller's JSON Schema cannot hurt the process", () => {
  it.each(["/chat", "/chat/stream"])("refuses $async on %s with a 400 naming it, and the process lives", async (path) => {
    const { result } = await whileHealthy(() => post(path, { messages: hello, response_format: jsonSchema({ $async: true, type: "object" }) }));
    expect(result.status).toBe(400);
    expect(result.json.param).toBe("response_format.json_schema.schema.$async");
    expect(result.json.keyword).toBe("$async");
    expect(modelCalls()).toHaveLength(0);
  });

  it("refuses a schema whose references multiply, at once, without stalling anyone", async () => {
    const properties = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`p${i}`, { type: "string" }]));
    const refs = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`r${i}`, { $ref: "#/definitions/big" }]));
    const { result, slowestHealthMs } = await whileHealthy(() =>
      post("/chat", {
        messages: hello,
        response_format: jsonSchema({ type: "object", definitions: { big: { type: "object", properties } }, properties: refs }),
      }),
    );
    expect(result.status).toBe(400);
    expect(result.json.detail).toMatch(/subschemas|\$ref|larger than/);
    expect(slowestHealthMs).toBeLessThan(1_000);
    expect(modelCalls()).toHaveLength(0);
  });

  it("checks a backtracking pattern against a hostile answer in linear time", async () => {
    // The model's answer is a string that takes ^(a+)+$ exponential time on a backtracking engine.
    const content = JSON.stringify({ a: `${"a".repeat(40)}!` });
    await fault({ match: { path: "/chat/completions" }, status: 200, body: completion(content) });
    const schema = { type: "object", properties: { a: { type: "string", pattern: "^(a+)+$" } } };
    const { result, slowestHealthMs } = await whileHealthy(() => post("/chat", { messages: hello, response_format: jsonSchema(schema) }));
    expect(result.status).toBe(502);
    expect(result.json.code).toBe("invalid_model_output");
    expect(slowestHealthMs).toBeLessThan(1_000);
  });

  it("refuses unknown formats without writing a log line per use, even one with a newline in its name", async () => {
    const properties = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`p${i}`, { type: "string", format: `x${i}\n[error] forged` }]));
    const before = app.host.service.output().length;
    const { result } = await whileHealthy(() => post("/chat", { messages: hello, response_format: jsonSchema({ type: "object", properties }) }));
    expect(result.status).toBe(400);
    expect(result.json.param).toBe("response_format.json_schema.schema.properties.p0.format");
    const logged = app.host.service.output().slice(before);
    expect(logged).not.toContain("forged");
    expect(logged).not.toContain("unknown format");
  });
});

describe("bodies that cannot be sent", () => {
  it("a body nested 20,000 levels deep is a 400 when it is read: nothing is sent, retried or counted", async () => {
    const deep = `${"[".repeat(20_000)}${"]".repeat(20_000)}`;
    const body = `{"messages":[{"role":"user","content":"Hi"}],"extra_field":${deep}}`;
    for (const path of ["/chat", "/chat/completions", "/chat/stream"]) {
      const { result } = await whileHealthy(() =>
        fetch(`${app.host.url}/api${path}`, { method: "POST", headers: { ...mallory, "content-type": "application/json" }, body }),
      );
      expect(result.status).toBe(400);
      expect(await result.text()).toContain("deeper than 64 levels");
    }
    expect(modelCalls()).toHaveLength(0);
    expect((await post("/chat/completions", { messages: hello }, alice)).status).toBe(200);
  });
});

describe("fan-out", () => {
  it("runs at most the per-turn limit of one turn's tool calls; the rest go back to the model as errors", async () => {
    const calls = Array.from({ length: 300 }, (_, i) => ({
      id: `call${String(i).padStart(5, "0")}`,
      type: "function",
      function: { name: "get_flight_info", arguments: JSON.stringify({ origin_city: "Paris", destination_city: `City${i}` }) },
    }));
    await fault({ match: { path: "/chat/completions" }, status: 200, body: completion("", calls), times: 1 });
    const { result } = await whileHealthy(() => post("/chat", { messages: hello, server_tools: ["get_flight_info"] }));
    expect(result.status).toBe(200);
    const steps = result.json.steps as Array<{ result?: unknown; error?: string }>;
    expect(steps).toHaveLength(300);
    expect(steps.filter((step) => step.result !== undefined)).toHaveLength(8);
    expect(steps.filter((step) => /at most 8 tool calls are run per turn/.test(step.error ?? ""))).toHaveLength(292);
    // The model was told: every call has its answer in the second turn's conversation.
    const second = modelCalls()[1]?.body as { messages: Array<{ role: string; content: string }> };
    expect(second.messages.filter((message) => message.role === "tool")).toHaveLength(300);
  });
});

describe("what errors show", () => {
  it("redacts local addresses and the model key, in any case or encoding, from upstream error text", async () => {
    const key = EMULATOR_KEY;
    const message = `upstream localhost:7072 and 127.0.0.1:10002 refused ${key.toUpperCase()} (${encodeURIComponent(key)}, ${Buffer.from(`user:${key}`).toString("base64")})`;
    await fault({ match: { path: "/chat/completions" }, status: 400, body: { error: { code: "bad_request", message } } });
    const { status, text } = await post("/chat/completions", { messages: hello });
    expect(status).toBe(400);
    for (const leak of ["localhost:7072", "127.0.0.1", key.toUpperCase(), encodeURIComponent(key), Buffer.from(key).toString("base64").slice(2, 10)]) {
      expect(text).not.toContain(leak);
    }
  });

  it("names the configured host in /api/openapi.json, whatever Host and x-forwarded-proto say", async () => {
    const response = await fetch(`${app.host.url}/api/openapi.json`, { headers: { "x-forwarded-host": "evil.example", "x-forwarded-proto": "http" } });
    const doc = (await response.json()) as { host: string; schemes: string[] };
    expect(doc.host).toBe(new URL(app.host.url).host);
    expect(doc.host).not.toContain("evil");
  });
});

describe("quota defaults", () => {
  it("let a caller that omits max_tokens make more than 100 requests a minute", async () => {
    let admitted = 0;
    for (let i = 0; i < 110; i++) {
      const { status } = await post("/chat/completions", { messages: hello }, alice);
      if (status === 200) admitted++;
    }
    expect(admitted).toBe(110);
  });
});

describe("one caller cannot open a deployment's circuit for the others", () => {
  // On mistral-small: the last of these leaves its circuit open, and the other tests use mistral-large.
  const small = { model: "mistral-small", messages: hello };

  it("a caller's own short deadline is not the deployment's failure", async () => {
    await fault({ match: { deployment: "mistral-small" }, delay_ms: 1_200, times: 5 });
    for (let i = 0; i < 5; i++) {
      const { status, json } = await post("/chat/completions", small, { ...mallory, "x-request-timeout-ms": "1000" });
      expect(status).toBe(504);
      expect(json.error.code).toBe("upstream_timeout");
    }
    await new Promise((resolve) => setTimeout(resolve, 300)); // the delayed answers end
    const other = await post("/chat/completions", small, alice);
    expect(other.status).toBe(200);
  });

  it("one caller's failures alone never open it; failures from two callers do", async () => {
    await fault({ match: { deployment: "mistral-small" }, status: 500, times: 6 });
    for (let i = 0; i < 5; i++) expect((await post("/chat/completions", small)).status).toBe(502);
    // Five failures, one caller: still closed for everyone.
    const failed = await post("/chat/completions", small, alice);
    expect(failed.status).toBe(502); // the sixth injected fault, now from a second caller: the circuit opens
    const refused = await post("/chat/completions", small, alice);
    expect(refused.status).toBe(503);
    expect(refused.json.error.code).toBe("upstream_unavailable");
    expect(modelCalls()).toHaveLength(6);
  });
});

function completion(content: string, toolCalls?: unknown[]) {
  return {
    id: "hostile",
    object: "chat.completion",
    created: 1_700_000_000,
    model: "Mistral-Large",
    choices: [
      { index: 0, message: { role: "assistant", content, ...(toolCalls ? { tool_calls: toolCalls } : {}) }, finish_reason: toolCalls ? "tool_calls" : "stop" },
    ],
    usage: { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 },
  };
}
