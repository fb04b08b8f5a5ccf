import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { postJson, seed, specExample, sseData, sseFrames, startEmulator } from "../support/emulator.js";

/** The emulator held to the wire protocol of the seed's REST examples, over real HTTP. */
let emulator: Awaited<ReturnType<typeof startEmulator>>;
let large: string;

beforeAll(async () => {
  emulator = await startEmulator();
  large = `${emulator.url}/mistral-large`;
});
afterAll(() => emulator.close());
beforeEach(() => emulator.emulator.reset());

const chat = (body: unknown, headers?: Record<string, string>, base = large) =>
  postJson(`${base}/chat/completions?api-version=2024-05-01-preview`, body, headers);

describe("GET /info", () => {
  it("answers the seed's model info for Mistral-Large, and likewise for Mistral-Small", async () => {
    const info = await fetch(`${large}/info`, { headers: { "api-key": "emulator-key" } });
    expect((await info.json()) as any).toEqual(seed("info.response"));
    const small = await fetch(`${emulator.url}/mistral-small/models/info`, { headers: { authorization: "Bearer emulator-key" } });
    expect(await small.json()).toEqual({ model_name: "Mistral-Small", model_type: "chat-completions", model_provider_name: "MistralAI" });
  });

  it("requires the key", async () => {
    const response = await fetch(`${large}/info`);
    expect(response.status).toBe(401);
    expect(((await response.json()) as any).error.code).toBe("unauthorized");
  });
});

describe("POST /chat/completions with the seed's requests", () => {
  it("answers the basic request like the seed's response", async () => {
    const { status, json, response } = await chat(seed("chat.request"));
    const expected = seed("chat.response");
    expect(status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(json).toMatchObject({
      object: "chat.completion",
      model: "Mistral-Large",
      choices: [
        { index: 0, message: { role: "assistant", content: expected.choices[0].message.content, tool_calls: null }, finish_reason: "stop", logprobs: null },
      ],
    });
    expect(Object.keys(json).sort()).toEqual(Object.keys(expected).sort());
    expect(json.id).toMatch(/^[0-9a-f]{32}$/);
    expect(json.usage.total_tokens).toBe(json.usage.prompt_tokens + json.usage.completion_tokens);
    expect(json.usage.prompt_tokens).toBeGreaterThan(0);
  });

  it("streams the seed's stream request frame by frame: role chunk, tokens, usage in the last chunk, [DONE]", async () => {
    const { status, text, response } = await chat(seed("stream.request"));
    expect(status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const frames = sseFrames(text);
    expect(frames.every((f) => f.startsWith("data: ") && !f.includes("\n"))).toBe(true);
    const data = sseData(text);
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    const first = seed("stream.first-chunk");
    const last = seed("stream.last-chunk");
    expect(chunks[0]).toMatchObject({ object: "chat.completion.chunk", model: "Mistral-Large", choices: [first.choices[0]] });
    expect(Object.keys(chunks[0]).sort()).toEqual(Object.keys(first).sort());
    const final = chunks.at(-1);
    expect(final).toMatchObject({ object: "chat.completion.chunk", choices: [{ index: 0, delta: { content: "" }, finish_reason: "stop" }] });
    expect(Object.keys(final).sort()).toEqual(Object.keys(last).sort());
    expect(chunks.slice(0, -1).every((c) => c.usage === undefined && c.choices[0].finish_reason === null)).toBe(true);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    const content = chunks.map((c) => c.choices[0].delta.content ?? "").join("");
    expect(content).toBe(seed("chat.response").choices[0].message.content);
    expect(final.usage.completion_tokens).toBe(chunks.length - 2);
  });

  it("accepts every parameter of the seed, and numeric strings as the Python sample sends them", async () => {
    const request = seed("parameters.request");
    expect((await chat(request)).status).toBe(200);
    const stringly = { ...request, presence_penalty: "0.1", frequency_penalty: "0.8" };
    const { status, json } = await chat(stringly);
    expect(status).toBe(200);
    expect(json.choices[0].finish_reason).toBe("stop");
  });

  it("answers JSON mode with the seed's JSON answer", async () => {
    const { status, json } = await chat(seed("json-mode.request"));
    expect(status).toBe(200);
    const content = json.choices[0].message.content;
    expect(JSON.parse(content)).toEqual(JSON.parse(seed("json-mode.response").choices[0].message.content));
  });

  it("calls get_flight_info for the seed's flight question, then answers from the tool result", async () => {
    const { status, json } = await chat(seed("tools.request"));
    expect(status).toBe(200);
    const expected = seed("tools.response");
    expect(json.choices[0].finish_reason).toBe("tool_calls");
    expect(json.choices[0].message.content).toBe(expected.choices[0].message.content);
    const [call] = json.choices[0].message.tool_calls;
    expect(call.id).toMatch(/^[A-Za-z0-9]{9}$/);
    expect(call.type).toBe("function");
    expect(call.function.name).toBe("get_flight_info");
    expect(JSON.parse(call.function.arguments)).toEqual({ origin_city: "Miami", destination_city: "Seattle" });

    const followUp = await chat(seed("tools-followup.request"));
    expect(followUp.status).toBe(200);
    expect(followUp.json.choices[0].finish_reason).toBe("stop");
    expect(followUp.json.choices[0].message.content).toBe(
      "There are no flights available from Miami to Seattle. You should take a train, specially if it helps to reduce CO2 emissions.",
    );
  });

  it("answers the seed's content-filter example with the seed's 400 body", async () => {
    const { status, json } = await chat(seed("content-filter.request"));
    expect(status).toBe(400);
    expect(json).toEqual(seed("content-filter.response"));
  });

  it("ends a completion that content safety cuts with finish_reason content_filter", async () => {
    const { json } = await chat({ messages: [{ role: "user", content: "emulator: filter the answer please" }] });
    expect(json.choices[0].finish_reason).toBe("content_filter");
  });
});

describe("extra parameters", () => {
  it("refuses unknown fields by default with a 400 that names them", async () => {
    const { status, json } = await chat({ ...seed("extra-parameters.request"), stream_options: { include_usage: true } });
    expect(status).toBe(400);
    expect(json.error.message).toContain("['logprobs', 'stream_options']");
    expect(json.error.message).toContain("pass-through");
  });

  it("passes them to the model with extra-parameters: pass-through", async () => {
    const { status, json } = await chat(seed("extra-parameters.request"), { "extra-parameters": "pass-through" });
    expect(status).toBe(200);
    expect(json.choices[0].logprobs.content.map((t: { token: string }) => t.token).join("")).toBe(json.choices[0].message.content);
  });

  it("drops them with extra-parameters: drop", async () => {
    const { status, json } = await chat(seed("extra-parameters.request"), { "extra-parameters": "drop" });
    expect(status).toBe(200);
    expect(json.choices[0].logprobs).toBeNull();
  });

  it("counts the safe prompt into prompt tokens when safe mode passes through", async () => {
    const plain = await chat(seed("chat.request"));
    const safe = await chat(seed("safe-mode.request"), { "extra-parameters": "pass-through" });
    expect(safe.status).toBe(200);
    expect(safe.json.usage.prompt_tokens).toBeGreaterThan(plain.json.usage.prompt_tokens);
    expect((await chat(seed("safe-mode.request"))).status).toBe(400);
  });

  it("rejects an unknown extra-parameters mode", async () => {
    const { status, json } = await chat(seed("chat.request"), { "extra-parameters": "ignore" });
    expect(status).toBe(400);
    expect(json.error.message).toContain("expected options are ['error', 'drop', 'pass-through']");
  });
});

describe("validation", () => {
  it.each([
    [{ messages: [] }, "messages"],
    [{ messages: [{ role: "robot", content: "hi" }] }, "messages[0].role"],
    [{ messages: [{ role: "user", content: "hi" }], temperature: 3 }, "temperature"],
    [{ messages: [{ role: "user", content: "hi" }], top_p: "lots" }, "top_p"],
    [{ messages: [{ role: "user", content: "hi" }], max_tokens: -1 }, "max_tokens"],
    [{ messages: [{ role: "user", content: "hi" }], response_format: { type: "yaml" } }, "response_format"],
    [{ messages: [{ role: "user", content: "hi" }], tool_choice: { type: "function", function: { name: "nope" } } }, "tool_choice"],
  ])("answers 422 naming the field for %j", async (body, param) => {
    const { status, json } = await chat(body);
    expect(status).toBe(422);
    expect(json.error.param).toBe(param);
  });

  it("answers 400 for a body that is not JSON", async () => {
    const response = await fetch(`${large}/chat/completions`, { method: "POST", headers: { "api-key": "emulator-key" }, body: "{nope" });
    expect(response.status).toBe(400);
    expect(((await response.json()) as any).error.code).toBe("invalid_json");
  });

  it("holds tool-call ids to Mistral's rule of 9 letters and digits", async () => {
    const request = seed("tools-followup.request");
    request.messages[2].tool_calls[0].id = "call_abc123";
    request.messages[3].tool_call_id = "call_abc123";
    const { status, json } = await chat(request);
    expect(status).toBe(400);
    expect(json.error.message).toBe("Tool call id was call_abc123 but must be a-z, A-Z, 0-9, with a length of 9.");
  });

  it("answers 405 for the wrong method and 404 for unknown paths", async () => {
    expect((await fetch(`${large}/chat/completions`, { headers: { "api-key": "emulator-key" } })).status).toBe(405);
    expect((await fetch(`${large}/embeddings`, { method: "POST", headers: { "api-key": "emulator-key" } })).status).toBe(404);
  });
});

describe("generation rules", () => {
  it("cuts at max_tokens with finish_reason length, and at a stop sequence", async () => {
    const cut = await chat({ messages: [{ role: "user", content: "Tell me everything" }], max_tokens: 3 });
    expect(cut.json.choices[0].finish_reason).toBe("length");
    expect(cut.json.usage.completion_tokens).toBe(3);
    expect(cut.json.choices[0].message.content).toBe("This is an");
    const stopped = await chat({ messages: [{ role: "user", content: "Hi" }], stop: "emulated" });
    expect(stopped.json.choices[0].message.content).toBe("This is an ");
    expect(stopped.json.choices[0].finish_reason).toBe("stop");
  });

  it("calls a required tool with arguments built from its schema", async () => {
    const tool = {
      type: "function",
      function: { name: "lookup", parameters: { type: "object", properties: { city: { type: "string" }, days: { type: "integer", minimum: 2 } } } },
    };
    const { json } = await chat({ messages: [{ role: "user", content: "weather?" }], tools: [tool], tool_choice: "required" });
    expect(json.choices[0].finish_reason).toBe("tool_calls");
    expect(JSON.parse(json.choices[0].message.tool_calls[0].function.arguments)).toEqual({ city: "city", days: 2 });
  });

  it("answers json_schema mode with an instance of the schema", async () => {
    const schema = { type: "object", properties: { answer: { type: "string" }, count: { type: "integer" } }, required: ["answer"] };
    const { json } = await chat({ messages: [{ role: "user", content: "Hi" }], response_format: { type: "json_schema", json_schema: { name: "a", schema } } });
    expect(Object.keys(JSON.parse(json.choices[0].message.content))).toEqual(["answer", "count"]);
  });

  it("is deterministic: the same request gets the same answer and tool-call id", async () => {
    const a = await chat(seed("tools.request"));
    const b = await chat(seed("tools.request"));
    expect(a.json.choices[0].message).toEqual(b.json.choices[0].message);
  });
});

describe("routes and deployments", () => {
  it("serves chat under /models/ and /v1/, and picks the deployment from model at the root", async () => {
    const models = await postJson(`${large}/models/chat/completions`, seed("chat.request"));
    const v1 = await postJson(`${large}/v1/chat/completions`, seed("chat.request"));
    expect([models.status, v1.status]).toEqual([200, 200]);
    const root = await postJson(`${emulator.url}/chat/completions`, { ...seed("chat.request"), model: "Mistral-Small" });
    expect(root.json.model).toBe("Mistral-Small");
    const foundry = await postJson(`${emulator.url}/models/chat/completions`, { ...seed("chat.request"), model: "mistral-small" });
    expect(foundry.json.model).toBe("Mistral-Small");
  });

  it("answers 404 at the root for a model it does not serve", async () => {
    const { status, json } = await postJson(`${emulator.url}/chat/completions`, { ...seed("chat.request"), model: "gpt-4" });
    expect(status).toBe(404);
    expect(json.error).toMatchObject({ code: "unknown_model", param: "model" });
  });

  it("accepts the official specification's example requests and answers in the same shape", async () => {
    for (const name of ["ModelInference_2025-04-01_GetChatCompletions_MinimumSet_Gen", "ModelInference_2025-05-15-preview_GetChatCompletions_MaximumSet_Gen"]) {
      const example = specExample(name);
      const body = { ...example.parameters.body, stream: false };
      const { status, json } = await postJson(`${large}/chat/completions?api-version=${example.parameters["api-version"]}`, body, {
        "extra-parameters": example.parameters["extra-parameters"] ?? "error",
      });
      expect(status, name).toBe(200);
      const expected = example.responses["200"].body;
      for (const key of ["id", "object", "created", "model", "choices", "usage"]) expect(json, `${name}: ${key}`).toHaveProperty(key);
      expect(Object.keys(json.usage)).toEqual(expect.arrayContaining(["prompt_tokens", "completion_tokens", "total_tokens"]));
      expect(Object.keys(json.choices[0])).toEqual(expect.arrayContaining(Object.keys(expected.choices[0])));
    }
  });

  it("refuses a malformed api-version", async () => {
    const { status } = await postJson(`${large}/chat/completions?api-version=yesterday`, seed("chat.request"));
    expect(status).toBe(400);
  });
});

describe("pacing", () => {
  it("waits the time to first token, then the per-token delay between content chunks", async () => {
    await postJson(`${emulator.url}/_emulator/settings`, { ttft_ms: 150, token_delay_ms: 40 });
    const started = Date.now();
    const response = await fetch(`${large}/chat/completions`, {
      method: "POST",
      headers: { "api-key": "emulator-key" },
      body: JSON.stringify({ messages: [{ role: "user", content: "Hi" }], max_tokens: 4, stream: true }),
    });
    const reader = response.body!.getReader();
    const first = await reader.read();
    const firstAt = Date.now() - started;
    let text = new TextDecoder().decode(first.value);
    for (let part = await reader.read(); !part.done; part = await reader.read()) text += new TextDecoder().decode(part.value);
    const total = Date.now() - started;
    // Lower bounds only: a sleep is never shorter than asked, however busy the machine.
    expect(firstAt).toBeGreaterThanOrEqual(145);
    expect(total).toBeGreaterThanOrEqual(145 + 3 * 40 - 5);
    expect(text).toContain("data: [DONE]");
  });
});

describe("rate limits", () => {
  it("answers 429 with Retry-After once a deployment's requests per minute are spent, per deployment", async () => {
    await postJson(`${emulator.url}/_emulator/settings`, { requests_per_minute: 2 });
    expect((await chat(seed("chat.request"))).status).toBe(200);
    expect((await chat(seed("chat.request"))).status).toBe(200);
    const limited = await chat(seed("chat.request"));
    expect(limited.status).toBe(429);
    expect(Number(limited.response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(Number(limited.response.headers.get("retry-after"))).toBeLessThanOrEqual(60);
    expect(Number(limited.response.headers.get("retry-after-ms"))).toBeGreaterThan(0);
    expect(limited.json.error.message).toMatch(/^Rate limit is exceeded\. Try again in \d+ seconds\.$/);
    expect((await chat(seed("chat.request"), {}, `${emulator.url}/mistral-small`)).status).toBe(200);
  });

  it("counts tokens per minute", async () => {
    await postJson(`${emulator.url}/_emulator/settings`, { tokens_per_minute: 50 });
    expect((await chat(seed("chat.request"))).status).toBe(200);
    expect((await chat(seed("chat.request"))).status).toBe(429);
  });
});
