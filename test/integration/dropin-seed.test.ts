import { describe, expect, inject, it } from "vitest";
import { postJson, seed, sseData, sseFrames } from "../support/emulator.js";

/** Every REST example of the seed, through the drop-in route, over real HTTP to the local stack. */
const api = `${inject("hostUrl")}/api`;
const DEV = { "api-key": "dev-key" };
const chat = (body: unknown, headers: Record<string, string> = {}, path = "/chat/completions") => postJson(`${api}${path}`, body, { ...DEV, ...headers });
const chunksOf = (text: string) =>
  sseData(text)
    .slice(0, -1)
    .map((d) => JSON.parse(d));

describe("drop-in route with the seed's requests", () => {
  it("answers the basic request as the model does", async () => {
    const { status, json, response } = await chat(seed("chat.request"));
    expect(status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(response.headers.get("x-request-id")).toBeTruthy();
    expect(json).toMatchObject({ object: "chat.completion", model: "Mistral-Large", choices: [{ index: 0, finish_reason: "stop" }] });
    expect(json.choices[0].message.content).toBe(seed("chat.response").choices[0].message.content);
    expect(Object.keys(json.usage).sort()).toEqual(Object.keys(seed("chat.response").usage).sort());
  });

  it("streams the seed's stream request frame by frame, with usage in the last chunk and [DONE]", async () => {
    const { status, text, response } = await chat(seed("stream.request"));
    expect(status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("no-cache");
    expect(response.headers.get("x-accel-buffering")).toBe("no");
    expect(sseFrames(text).every((frame) => frame.startsWith("data: "))).toBe(true);
    expect(sseData(text).at(-1)).toBe("[DONE]");
    const chunks = chunksOf(text);
    expect(chunks[0].choices[0].delta).toEqual(seed("stream.first-chunk").choices[0].delta);
    const last = chunks.at(-1);
    expect(last.choices[0].finish_reason).toBe("stop");
    expect(last.usage).toMatchObject({ prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number), total_tokens: expect.any(Number) });
    expect(chunks.map((c) => c.choices[0].delta.content ?? "").join("")).toBe(seed("chat.response").choices[0].message.content);
  });

  it("takes every parameter of the seed", async () => {
    const { status, json } = await chat(seed("parameters.request"));
    expect(status).toBe(200);
    expect(json.choices[0].finish_reason).toBe("stop");
    const stopAsString = await chat({ ...seed("parameters.request"), stop: "languages", seed: 42 });
    expect(stopAsString.status).toBe(200);
    expect(stopAsString.json.choices[0].message.content).not.toContain("languages");
  });

  it("answers JSON mode with JSON", async () => {
    const { json } = await chat(seed("json-mode.request"));
    expect(JSON.parse(json.choices[0].message.content)).toEqual(JSON.parse(seed("json-mode.response").choices[0].message.content));
  });

  it("passes extras to the model with extra-parameters: pass-through, and shows the model's own answer without it", async () => {
    const refused = await chat(seed("extra-parameters.request"));
    expect(refused.status).toBe(400);
    expect(refused.json.error.message).toContain("['logprobs']");
    const passed = await chat(seed("extra-parameters.request"), { "extra-parameters": "pass-through" });
    expect(passed.status).toBe(200);
    expect(passed.json.choices[0].logprobs.content.length).toBeGreaterThan(0);
  });

  it("accepts the seed's JavaScript spelling of the header, extra-params: passthrough", async () => {
    const { status, json } = await chat({ ...seed("chat.request"), safe_mode: true }, { "extra-params": "passthrough" });
    expect(status).toBe(200);
    expect(json.choices[0].finish_reason).toBe("stop");
  });

  it("passes the seed's safe mode through", async () => {
    const safe = await chat(seed("safe-mode.request"), { "extra-parameters": "pass-through" });
    const plain = await chat(seed("chat.request"));
    expect(safe.status).toBe(200);
    expect(safe.json.usage.prompt_tokens).toBeGreaterThan(plain.json.usage.prompt_tokens);
  });

  it("runs the seed's tool flow in two calls", async () => {
    const first = await chat(seed("tools.request"));
    expect(first.json.choices[0].finish_reason).toBe("tool_calls");
    const [call] = first.json.choices[0].message.tool_calls;
    expect(JSON.parse(call.function.arguments)).toEqual({ origin_city: "Miami", destination_city: "Seattle" });
    const second = await chat(seed("tools-followup.request"));
    expect(second.status).toBe(200);
    expect(second.json.choices[0].message.content).toContain("There are no flights available from Miami to Seattle.");
  });

  it("answers the content-filter example with 400 content_filter and the model's message, in the SDK error shape", async () => {
    const { status, json } = await chat(seed("content-filter.request"));
    expect(status).toBe(400);
    expect(json.error).toMatchObject({
      code: "content_filter",
      message: seed("content-filter.response").error.message,
      type: "invalid_request_error",
      param: "prompt",
    });
  });
});

describe("drop-in route for OpenAI-style clients", () => {
  it("serves /api/v1/chat/completions too", async () => {
    const { status, json } = await chat(seed("chat.request"), {}, "/v1/chat/completions");
    expect(status).toBe(200);
    expect(json.model).toBe("Mistral-Large");
  });

  it("picks the deployment from model, and names the known ones for an unknown model", async () => {
    expect((await chat({ ...seed("chat.request"), model: "mistral-small" })).json.model).toBe("Mistral-Small");
    const { status, json } = await chat({ ...seed("chat.request"), model: "gpt-4o" });
    expect(status).toBe(400);
    expect(json.error).toMatchObject({
      code: "model_not_found",
      param: "model",
      message: 'Unknown model "gpt-4o". Known models: mistral-large, mistral-small.',
    });
  });

  it("answers stream_options.include_usage with a final usage chunk with empty choices", async () => {
    const { text } = await chat({ ...seed("chat.request"), stream: true, stream_options: { include_usage: true } });
    const chunks = chunksOf(text);
    const usageChunk = chunks.at(-1);
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage.total_tokens).toBeGreaterThan(0);
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    expect(chunks.at(-2).choices[0].finish_reason).toBe("stop");
  });

  it("maps max_completion_tokens to max_tokens and accepts n = 1", async () => {
    const { status, json } = await chat({ ...seed("chat.request"), max_completion_tokens: 3, n: 1 });
    expect(status).toBe(200);
    expect(json.choices[0].finish_reason).toBe("length");
    expect(json.usage.completion_tokens).toBe(3);
    expect((await chat({ ...seed("chat.request"), n: 2 })).json.error.param).toBe("n");
  });

  it("gives streamed tool-call deltas an index and a type", async () => {
    const { text } = await chat({ ...seed("tools.request"), stream: true });
    const calls = chunksOf(text).flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ index: 0, type: "function", function: { name: "get_flight_info" } });
    expect(calls[0].id).toMatch(/^[A-Za-z0-9]{9}$/);
  });
});
