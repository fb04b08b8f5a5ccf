import { beforeAll, describe, expect, it } from "vitest";
import { postJson, seed } from "../support/emulator.js";
import { useOwnApp } from "../support/host.js";

/**
 * POST /api/chat, the app contract, against an emulator of this test's own so its request log shows
 * exactly what reached the model (nothing, for bad input).
 */
// Limits set lower than the defaults, so that their settings are what the 413s below check.
const app = useOwnApp({ CHAT_MAX_BODY_BYTES: "262144", CHAT_MAX_MESSAGE_BYTES: "65536" });
let api: string;
beforeAll(() => {
  api = `${app.host.url}/api/chat`;
});

const chat = (body: unknown, headers: Record<string, string> = {}) => postJson(api, body, { "api-key": "dev-key", ...headers });
const upstream = () => app.emulator.emulator.log.entries();
const ask = (content: string, extra: Record<string, unknown> = {}) => chat({ messages: [{ role: "user", content }], ...extra });

describe("POST /api/chat with the seed's requests", () => {
  it("answers in the app contract", async () => {
    const { status, json } = await chat(seed("chat.request"));
    expect(status).toBe(200);
    expect(json).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{32}$/),
      model: "mistral-large",
      created: expect.any(Number),
      message: { role: "assistant", content: seed("chat.response").choices[0].message.content },
      finish_reason: "stop",
      usage: { prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number), total_tokens: expect.any(Number) },
      steps: [],
    });
  });

  it("passes every parameter of the seed to the model", async () => {
    const { status } = await chat(seed("parameters.request"));
    expect(status).toBe(200);
    expect(upstream()[0]?.body).toMatchObject({
      presence_penalty: 0.1,
      frequency_penalty: 0.8,
      max_tokens: 2048,
      stop: ["<|endoftext|>"],
      temperature: 0,
      top_p: 1,
      response_format: { type: "text" },
    });
  });

  it("answers JSON mode with the parsed value", async () => {
    const { json } = await chat(seed("json-mode.request"));
    expect(json.message.parsed).toEqual(JSON.parse(seed("json-mode.response").choices[0].message.content));
  });

  it("runs the seed's client-run tool flow in two calls", async () => {
    const first = await chat(seed("tools.request"));
    expect(first.json.finish_reason).toBe("tool_calls");
    const [call] = first.json.message.tool_calls;
    expect(call).toMatchObject({ type: "function", function: { name: "get_flight_info" } });
    expect(JSON.parse(call.function.arguments)).toEqual({ origin_city: "Miami", destination_city: "Seattle" });
    const second = await chat(seed("tools-followup.request"));
    expect(second.status).toBe(200);
    expect(second.json.message.content).toBe(
      "There are no flights available from Miami to Seattle. You should take a train, specially if it helps to reduce CO2 emissions.",
    );
  });

  it("answers the content-filter example with a 400 content_filtered problem carrying the model's message", async () => {
    const { status, json, response } = await chat(seed("content-filter.request"));
    expect(status).toBe(400);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(json).toMatchObject({ code: "content_filtered", status: 400, detail: seed("content-filter.response").error.message });
    expect(upstream()).toHaveLength(1);
  });

  it("refuses the seed's top-level extras, which the contract carries in extra and safe_mode", async () => {
    const logprobs = await chat(seed("extra-parameters.request"));
    expect([logprobs.status, logprobs.json.param]).toEqual([400, "logprobs"]);
    const safemode = await chat(seed("safe-mode.request"));
    expect([safemode.status, safemode.json.param]).toEqual([400, "safemode"]);
    const stream = await chat(seed("stream.request"));
    expect([stream.status, stream.json.param]).toEqual([400, "stream"]);
    expect(upstream()).toHaveLength(0);
  });
});

describe("content safety", () => {
  it("reports an answer the filter cut with finish_reason content_filter", async () => {
    const { status, json } = await ask("emulator: filter the answer please");
    expect(status).toBe(200);
    expect(json.finish_reason).toBe("content_filter");
    expect(json.message.content).toBe("I am starting to answer, but");
  });

  it("never retries a filtered prompt", async () => {
    await chat(seed("content-filter.request"));
    expect(upstream()).toHaveLength(1);
  });
});

describe("what reaches the model", () => {
  it("sends safe_mode as safe_prompt with extra-parameters: pass-through", async () => {
    expect((await ask("Hi", { safe_mode: true })).status).toBe(200);
    const [sent] = upstream();
    expect(sent?.body).toMatchObject({ safe_prompt: true });
    expect(sent?.body).not.toHaveProperty("safe_mode");
    expect(sent?.headers["extra-parameters"]).toBe("pass-through");
  });

  it("passes extra parameters through", async () => {
    expect((await ask("Hi", { extra: { logprobs: true, random_seed: 7 } })).status).toBe(200);
    expect(upstream()[0]?.body).toMatchObject({ logprobs: true, random_seed: 7 });
    expect(upstream()[0]?.headers["extra-parameters"]).toBe("pass-through");
  });

  it("sends no extra-parameters header when there is nothing extra", async () => {
    await ask("Hi");
    expect(upstream()[0]?.headers).not.toHaveProperty("extra-parameters");
  });

  it("maps tool-call ids Mistral refuses, the same way in the call and its answer", async () => {
    const request = seed("tools-followup.request");
    request.messages[2].tool_calls[0].id = "call_7f3a_XYZ";
    request.messages[3].tool_call_id = "call_7f3a_XYZ";
    const { status } = await chat(request);
    expect(status).toBe(200);
    const sent = upstream()[0]?.body as { messages: Array<{ tool_calls?: Array<{ id: string }>; tool_call_id?: string }> };
    const callId = sent.messages[2]?.tool_calls?.[0]?.id;
    expect(callId).toMatch(/^[A-Za-z0-9]{9}$/);
    expect(sent.messages[3]?.tool_call_id).toBe(callId);
  });

  it("keeps ids that already fit", async () => {
    await chat(seed("tools-followup.request"));
    const sent = upstream()[0]?.body as { messages: Array<{ tool_call_id?: string }> };
    expect(sent.messages[3]?.tool_call_id).toBe("abc0DeFgH");
  });
});

describe("JSON output", () => {
  const completionWith = (content: string, finish = "stop") => ({
    status: 200,
    body: {
      id: "x",
      object: "chat.completion",
      created: 1,
      model: "Mistral-Large",
      choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: finish }],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    },
  });
  const schema = { type: "object", properties: { answer: { type: "string" } }, required: ["answer"] };

  it("validates json_schema answers and returns the parsed value", async () => {
    const { status, json } = await ask("Hi", { response_format: { type: "json_schema", json_schema: { name: "answer", schema } } });
    expect(status).toBe(200);
    expect(json.message.parsed).toEqual({ answer: "answer" });
  });

  it("answers 502 invalid_model_output when the model's JSON does not parse or match", async () => {
    await postJson(`${app.emulator.url}/_emulator/faults`, { faults: [completionWith("not json"), completionWith('{"answer": 5}')] });
    const unparsable = await ask("Hi", { response_format: { type: "json_object" } });
    expect(unparsable.status).toBe(502);
    expect(unparsable.json.code).toBe("invalid_model_output");
    expect(unparsable.json.detail).toMatch(/^The model's answer is not valid JSON/);
    const mismatched = await ask("Hi", { response_format: { type: "json_schema", json_schema: { name: "answer", schema } } });
    expect(mismatched.status).toBe(502);
    expect(mismatched.json.detail).toBe("The model's answer does not match the schema: /answer must be string.");
  });

  it("compiles each request's schema on its own: the same $id twice, and a 2020-12 dialect, both work", async () => {
    const withId = { ...schema, $id: "https://example.com/answer.json" };
    for (let i = 0; i < 2; i++) {
      const { status } = await ask("Hi", { response_format: { type: "json_schema", json_schema: { name: "answer", schema: withId } } });
      expect(status).toBe(200);
    }
    const dialect = { ...schema, $schema: "https://json-schema.org/draft/2020-12/schema" };
    expect((await ask("Hi", { response_format: { type: "json_schema", json_schema: { name: "answer", schema: dialect } } })).status).toBe(200);
  });

  it("returns a cut-off answer unparsed", async () => {
    const { status, json } = await ask("How many languages are in the world?", { response_format: { type: "json_object" }, max_tokens: 3 });
    expect(status).toBe(200);
    expect(json.finish_reason).toBe("length");
    expect(json.message).not.toHaveProperty("parsed");
  });
});

describe("bad input never reaches the model", () => {
  const big = "x".repeat(64 * 1024);
  const raw = (init: RequestInit) => fetch(api, init);
  it.each([
    [
      "invalid JSON",
      () => raw({ method: "POST", headers: { "api-key": "dev-key", "content-type": "application/json" }, body: "{" }),
      400,
      "invalid_json",
      undefined,
    ],
    [
      "a wrong content type",
      () => raw({ method: "POST", headers: { "api-key": "dev-key", "content-type": "text/plain" }, body: "{}" }),
      415,
      "unsupported_media_type",
      undefined,
    ],
    ["a wrong method", () => raw({ method: "PUT", headers: { "api-key": "dev-key" } }), 405, "method_not_allowed", undefined],
    ["no messages", () => chat({}), 400, "invalid_request", "messages"],
    ["an unknown top-level field", () => ask("Hi", { temprature: 0.5 }), 400, "invalid_request", "temprature"],
    ["a temperature out of range", () => ask("Hi", { temperature: 1.5 }), 400, "invalid_request", "temperature"],
    ["a max_tokens of 0", () => ask("Hi", { max_tokens: 0 }), 400, "invalid_request", "max_tokens"],
    ["a max_tokens over the ceiling", () => ask("Hi", { max_tokens: 1_000_000 }), 400, "invalid_request", "max_tokens"],
    ["a penalty out of range", () => ask("Hi", { presence_penalty: 3 }), 400, "invalid_request", "presence_penalty"],
    ["a stop list too long", () => ask("Hi", { stop: ["a", "b", "c", "d", "e"] }), 400, "invalid_request", "stop"],
    ["an unknown role", () => chat({ messages: [{ role: "robot", content: "Hi" }] }), 400, "invalid_request", "messages[0].role"],
    ["a user message without content", () => chat({ messages: [{ role: "user" }] }), 400, "invalid_request", "messages[0].content"],
    [
      "a tool message answering nothing",
      () =>
        chat({
          messages: [
            { role: "user", content: "Hi" },
            { role: "tool", tool_call_id: "abc", content: "{}" },
          ],
        }),
      400,
      "invalid_request",
      "messages[1].tool_call_id",
    ],
    [
      "a tool_choice naming no tool",
      () => ask("Hi", { tools: seed("tools.request").tools, tool_choice: { type: "function", function: { name: "other" } } }),
      400,
      "invalid_request",
      "tool_choice.function.name",
    ],
    ["an extra that shadows a checked field", () => ask("Hi", { extra: { temperature: 9 } }), 400, "invalid_request", "extra.temperature"],
    [
      "a json_schema Ajv cannot use",
      () => ask("Hi", { response_format: { type: "json_schema", json_schema: { name: "a", schema: { type: "nonsense" } } } }),
      400,
      "invalid_request",
      "response_format.json_schema.schema",
    ],
    ["an unknown model", () => ask("Hi", { model: "gpt-4o" }), 400, "model_not_found", "model"],
    [
      "an unknown field in a replayed tool call",
      () =>
        chat({
          messages: [
            { role: "user", content: "Hi" },
            { role: "assistant", tool_calls: [{ id: "abc0DeFgH", type: "function", function: { name: "f", arguments: "{}" }, extra: {} }] },
          ],
        }),
      400,
      "invalid_request",
      "messages[1].tool_calls[0].extra",
    ],
    ["a message over 64 KiB", () => ask(big), 413, "payload_too_large", "messages[0]"],
    [
      "more than 256 messages",
      () => chat({ messages: Array.from({ length: 257 }, () => ({ role: "user", content: "Hi" })) }),
      413,
      "payload_too_large",
      "messages",
    ],
    [
      "a body over 256 KiB",
      () => chat({ messages: [1, 2, 3, 4, 5].map(() => ({ role: "user", content: big.slice(0, 60_000) })), extra: { pad: big } }),
      413,
      "payload_too_large",
      undefined,
    ],
    ["no key", () => postJson(api, { messages: [{ role: "user", content: "Hi" }] }, { "api-key": "" }), 401, "unauthorized", undefined],
  ] as const)("%s: a problem, and nothing sent upstream", async (_name, send, status, code, param) => {
    const sent = await send();
    const response = sent instanceof Response ? sent : sent.response;
    const body = (sent instanceof Response ? await sent.json() : sent.json) as Record<string, unknown>;
    expect(response.status).toBe(status);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(body.code).toBe(code);
    if (param !== undefined) expect(body.param).toBe(param);
    expect(upstream()).toHaveLength(0);
  });
});
