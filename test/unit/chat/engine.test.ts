import { describe, expect, it } from "vitest";
import type { ChatPart } from "../../../src/chat/chat-parts.js";
import { type ChatCall, collectChat, openChat } from "../../../src/chat/engine.js";
import type { ChatResponse } from "../../../src/chat/from-wire.js";
import { type ChatRuntime, prepareChat } from "../../../src/chat/prepare.js";
import { ModelRegistry } from "../../../src/inference/index.js";
import { ModelPipeline } from "../../../src/inference/model-pipeline.js";
import { modelErrorFromResponse } from "../../../src/inference/upstream-error.js";
import { ModelError } from "../../../src/lib/model-error.js";
import { HttpProblem } from "../../../src/lib/problem.js";
import { toProblem } from "../../../src/lib/to-problem.js";
import { type ServerTool, ToolError } from "../../../src/tools/server-tool.js";
import { ToolRegistry } from "../../../src/tools/tool-registry.js";
import { seed } from "../../support/emulator.js";
import {
  CHAT_LIMITS,
  type ChunkEdit,
  FakeModel,
  recordedChunks,
  recordedDeltas,
  recordedToolCalls,
  recordedUsage,
  type StreamName,
  TOOL_LIMITS,
  type Turn,
  upstreamFailure,
  withText,
  withToolCallIds,
} from "../../support/fake-model.js";

/** The test's own server tool, under the name the recorded tool call uses; it records its calls. */
function flightTool() {
  const calls: Array<Record<string, unknown>> = [];
  const tool: ServerTool = {
    name: "get_flight_info",
    description: "The test's own flight lookup.",
    parameters: {
      type: "object",
      properties: { origin_city: { type: "string" }, destination_city: { type: "string" } },
      required: ["origin_city", "destination_city"],
    },
    async execute(args) {
      calls.push(args);
      return { info: `Take the train from ${args.origin_city}.` };
    },
  };
  return { tool, calls };
}

function runtime(models: ModelRegistry, options: { tools?: ServerTool[]; maxIterations?: number } = {}): ChatRuntime {
  return {
    models,
    tools: new ToolRegistry(options.tools ?? []),
    config: { maxTokens: 4_096, chat: CHAT_LIMITS, tools: { ...TOOL_LIMITS, maxIterations: options.maxIterations ?? TOOL_LIMITS.maxIterations } },
  };
}

/** The turn that plays `name` for the shape asked: a stream, or one whole completion. */
const answer = (stream: boolean, name: StreamName, edit?: ChunkEdit): Turn =>
  stream ? { stream: name, ...(edit ? { edit } : {}) } : { completion: name, ...(edit ? { edit } : {}) };

interface Run {
  alias: string;
  parts: ChatPart[];
}

async function open(body: unknown, chat: ChatRuntime, call: Partial<ChatCall> & { stream: boolean }) {
  const prepared = await prepareChat(body, chat, { meter: undefined, callerId: "key:test" });
  return openChat(prepared, { models: chat.models, allowFallback: false, deadlineAt: Date.now() + 10_000, ...call });
}

async function run(body: unknown, chat: ChatRuntime, call: Partial<ChatCall> & { stream: boolean }): Promise<Run> {
  const opened = await open(body, chat, call);
  const parts: ChatPart[] = [];
  for await (const part of opened.parts) parts.push(part);
  return { alias: opened.alias, parts };
}

const types = (parts: ChatPart[]) => parts.map((part) => part.type);
const deltas = (parts: ChatPart[]) => parts.flatMap((part) => (part.type === "delta" ? [part.content] : []));
const terminal = (parts: ChatPart[]) => parts.filter((part) => part.type === "done" || part.type === "error");
function done(parts: ChatPart[]): ChatResponse {
  const last = parts.at(-1);
  if (last?.type !== "done") throw new Error(`expected the parts to end in done: ${JSON.stringify(types(parts))}`);
  return last.response;
}
function failed(parts: ChatPart[]): HttpProblem {
  const last = parts.at(-1);
  if (last?.type !== "error") throw new Error(`expected the parts to end in error: ${JSON.stringify(types(parts))}`);
  return last.problem;
}
const rejection = async (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: unknown) => error,
  );

const hello = { messages: [{ role: "user", content: "Say hello." }] };
const flightQuestion = seed("tools.request").messages as unknown[];
const MISTRAL_ID = /^[A-Za-z0-9]{9}$/;
const sum = (...names: StreamName[]) =>
  names.map(recordedUsage).reduce((total, u) => ({
    prompt_tokens: total.prompt_tokens + u.prompt_tokens,
    completion_tokens: total.completion_tokens + u.completion_tokens,
    total_tokens: total.total_tokens + u.total_tokens,
  }));

describe("openChat: a text answer", () => {
  it("JSON shape: one complete() call with the request as sent, and the recorded answer whole", async () => {
    const model = new FakeModel("mistral-large", [{ completion: "text" }]);
    const chat = runtime(new ModelRegistry([model]));
    const deadlineAt = Date.now() + 5_000;
    const opened = await open({ ...hello, max_tokens: 64, temperature: 0 }, chat, { stream: false, deadlineAt });
    const response = await collectChat(opened.parts);

    const [first] = recordedChunks("text");
    expect(response).toEqual({
      id: first?.id,
      model: "mistral-large",
      created: first?.created,
      message: { role: "assistant", content: recordedDeltas("text").join("") },
      finish_reason: "stop",
      usage: recordedUsage("text"),
      steps: [],
    });
    expect(model.calls).toHaveLength(1);
    const [call] = model.calls;
    expect(call?.method).toBe("complete");
    // The wire body: the conversation and parameters, nothing of the app's own, no tools.
    expect(call?.body).toEqual({ messages: [{ role: "user", content: "Say hello." }], max_tokens: 64, temperature: 0 });
    expect(call?.options).toMatchObject({ deadlineAt, callerId: "key:test" });
  });

  it("stream shape: start, one delta per recorded piece of text, then done with the same answer as JSON", async () => {
    const streamed = await run(hello, runtime(new ModelRegistry([new FakeModel("mistral-large", [{ stream: "text" }])])), { stream: true });
    const whole = await collectChat(
      (await open(hello, runtime(new ModelRegistry([new FakeModel("mistral-large", [{ completion: "text" }])])), { stream: false })).parts,
    );

    const [first] = recordedChunks("text");
    expect(streamed.parts[0]).toEqual({ type: "start", id: first?.id, model: "mistral-large", created: first?.created });
    expect(types(streamed.parts)).toEqual(["start", ...recordedDeltas("text").map(() => "delta"), "done"]);
    expect(deltas(streamed.parts)).toEqual(recordedDeltas("text"));
    expect(done(streamed.parts)).toEqual(whole);
  });

  it("refuses a max_tokens over the ceiling before the model is called", async () => {
    const model = new FakeModel("mistral-large", [{ completion: "text" }]);
    const error = await rejection(open({ ...hello, max_tokens: 5_000 }, runtime(new ModelRegistry([model])), { stream: false }));
    expect(error).toMatchObject({ status: 400, code: "invalid_request", extensions: { param: "max_tokens" } });
    expect(model.calls).toHaveLength(0);
  });
});

describe("openChat: tools the caller runs", () => {
  // The caller replays an earlier call under its own id, which Mistral would refuse.
  const callerId = "call_miami_seattle_1";
  const body = {
    ...seed("tools.request"),
    messages: [
      ...flightQuestion,
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: callerId, type: "function", function: { name: "get_flight_info", arguments: '{"origin_city":"Miami","destination_city":"Seattle"}' } },
        ],
      },
      { role: "tool", tool_call_id: callerId, content: '{"info":"No flights."}' },
      { role: "user", content: "Look again: when is the next flight from Miami to Seattle?" },
    ],
  };
  /** The model calls again under the id it was shown for the caller's call. */
  const reuseShownId = withToolCallIdFromBody();

  for (const stream of [false, true]) {
    it(`${stream ? "stream" : "JSON"} shape: Mistral-style ids go to the model, the caller's own ids come back`, async () => {
      const model = new FakeModel("mistral-large", [answer(stream, "tool-call", reuseShownId)]);
      const { parts } = await run(body, runtime(new ModelRegistry([model])), { stream });

      const sent = model.calls[0]?.body;
      const shownId = sent?.messages[2]?.tool_calls?.[0]?.id;
      expect(shownId).toMatch(MISTRAL_ID);
      expect(shownId).not.toBe(callerId);
      expect(sent?.messages[3]).toEqual({ role: "tool", tool_call_id: shownId, content: '{"info":"No flights."}' });
      // The caller's tools and choice go as they are.
      expect(sent?.tools).toEqual(seed("tools.request").tools);
      expect(sent?.tool_choice).toBe("auto");

      const [recordedCall] = recordedToolCalls("tool-call");
      const response = done(parts);
      expect(response.finish_reason).toBe("tool_calls");
      expect(response.message.tool_calls).toEqual([{ id: callerId, type: "function", function: recordedCall?.function }]);
      expect(response.steps).toEqual([]);
      expect(parts.filter((part) => part.type === "tool_call")).toEqual([
        { type: "tool_call", id: callerId, name: "get_flight_info", arguments: recordedCall?.function.arguments },
      ]);
      expect(types(parts).slice(-2)).toEqual(["tool_call", "done"]);
    });
  }

  it("a fresh call the model makes keeps the model's id", async () => {
    const model = new FakeModel("mistral-large", [{ completion: "tool-call" }]);
    const { parts } = await run(seed("tools.request"), runtime(new ModelRegistry([model])), { stream: false });
    expect(done(parts).message.tool_calls?.[0]?.id).toBe(recordedToolCalls("tool-call")[0]?.id);
  });
});

/** A tool's work: `{ finished: true }` after `ms`, or `{ finished: false }` as soon as its signal aborts. */
function settleAfter(ms: number, signal: AbortSignal): Promise<{ finished: boolean }> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ finished: true }), ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve({ finished: false });
    });
  });
}

/** An edit giving the recorded call the id the model was shown for the conversation's first tool call. */
function withToolCallIdFromBody(): ChunkEdit {
  return (chunk, body) => {
    const shown = body.messages.find((m) => m.tool_calls?.length)?.tool_calls?.[0]?.id;
    for (const choice of chunk.choices) for (const call of choice.delta.tool_calls ?? []) call.id = shown ?? call.id;
    return chunk;
  };
}

describe("openChat: the server-tool loop", () => {
  const body = { messages: flightQuestion, server_tools: ["get_flight_info"] };

  for (const stream of [false, true]) {
    it(`${stream ? "stream" : "JSON"} shape: the call, its result, the next turn with the tool message, steps and summed usage`, async () => {
      const own = flightTool();
      const model = new FakeModel("mistral-large", [answer(stream, "tool-call"), answer(stream, "after-tool")]);
      const { parts } = await run(body, runtime(new ModelRegistry([model]), { tools: [own.tool] }), { stream });

      const [call] = recordedToolCalls("tool-call");
      const id = call?.id as string;
      expect(id).toMatch(MISTRAL_ID);
      expect(own.calls).toEqual([{ origin_city: "Miami", destination_city: "Seattle" }]);
      const toolCall = { type: "tool_call", id, name: "get_flight_info", arguments: call?.function.arguments };
      const toolResult = { type: "tool_result", id, name: "get_flight_info", content: { info: "Take the train from Miami." } };
      const textParts = stream
        ? recordedDeltas("after-tool").map((content) => ({ type: "delta", content }))
        : [{ type: "delta", content: recordedDeltas("after-tool").join("") }];
      expect(parts.slice(1, -1)).toEqual([toolCall, toolResult, ...textParts]);
      expect(parts[0]).toMatchObject({ type: "start", model: "mistral-large" });

      // Both turns offer the server tool's definition; the second replays the call and its result.
      const definition = {
        type: "function",
        function: { name: "get_flight_info", description: "The test's own flight lookup.", parameters: own.tool.parameters },
      };
      expect(model.bodies.map((b) => [b.tools, b.tool_choice])).toEqual([
        [[definition], "auto"],
        [[definition], "auto"],
      ]);
      expect(model.bodies[0]?.messages).toEqual(flightQuestion);
      expect(model.bodies[1]?.messages).toEqual([
        ...flightQuestion,
        { role: "assistant", content: "", tool_calls: [{ id, type: "function", function: call?.function }] },
        { role: "tool", tool_call_id: id, content: JSON.stringify({ info: "Take the train from Miami." }) },
      ]);

      const response = done(parts);
      expect(response.message).toEqual({ role: "assistant", content: recordedDeltas("after-tool").join("") });
      expect(response.steps).toEqual([
        { tool_call: { id, name: "get_flight_info", arguments: call?.function.arguments }, result: { info: "Take the train from Miami." } },
      ]);
      expect(response.usage).toEqual(sum("tool-call", "after-tool"));
    });
  }

  it("a tool's own failure goes back to the model as the tool message, and out as the tool_result's error", async () => {
    const failing: ServerTool = {
      ...flightTool().tool,
      execute: async () => {
        throw new ToolError("The flight database is down.");
      },
    };
    const model = new FakeModel("mistral-large", [{ stream: "tool-call" }, { stream: "after-tool" }]);
    const { parts } = await run(body, runtime(new ModelRegistry([model]), { tools: [failing] }), { stream: true });
    const [call] = recordedToolCalls("tool-call");
    const id = call?.id as string;
    expect(parts.filter((p) => p.type === "tool_result")).toEqual([
      { type: "tool_result", id, name: "get_flight_info", error: "The flight database is down." },
    ]);
    expect(model.bodies[1]?.messages.at(-1)).toEqual({ role: "tool", tool_call_id: id, content: '{"error":"The flight database is down."}' });
    expect(done(parts).steps).toEqual([
      { tool_call: { id, name: "get_flight_info", arguments: call?.function.arguments }, error: "The flight database is down." },
    ]);
  });

  it("a tool gets the chat's time: one that takes a moment finishes", async () => {
    const slow: ServerTool = { ...flightTool().tool, execute: (_args, signal) => settleAfter(30, signal) };
    const model = new FakeModel("mistral-large", [{ stream: "tool-call" }, { stream: "after-tool" }]);
    const { parts } = await run(body, runtime(new ModelRegistry([model]), { tools: [slow] }), { stream: true, deadlineAt: Date.now() + 10_000 });
    expect(parts.find((p) => p.type === "tool_result")).toMatchObject({ content: { finished: true } });
    expect(done(parts).steps).toHaveLength(1);
  });

  it("a tool is cut short at the chat's deadline, and the model is not asked again after it", async () => {
    const stuck: ServerTool = { ...flightTool().tool, execute: (_args, signal) => settleAfter(60_000, signal) };
    const model = new FakeModel("mistral-large", [{ stream: "tool-call" }, { stream: "after-tool" }]);
    const { parts } = await run(body, runtime(new ModelRegistry([model]), { tools: [stuck] }), { stream: true, deadlineAt: Date.now() + 100 });
    // Abandoned at the deadline, as one that ignored its signal would be: what it answers as it is aborted does not count.
    expect(parts.find((p) => p.type === "tool_result")).toMatchObject({ error: "Not finished: the request ended first." });
    expect(terminal(parts)).toHaveLength(1);
    expect(failed(parts)).toMatchObject({ status: 504, code: "upstream_timeout" });
    // The second call found the deadline passed: it played no turn.
    expect(model.calls.map((c) => c.outcome)).toEqual(["done", "failed"]);
    expect(model.pending).toBe(1);
  });

  it("asks the last turn with tool_choice none once maxIterations rounds have run", async () => {
    const own = flightTool();
    const model = new FakeModel("mistral-large", [
      { stream: "tool-call", edit: withToolCallIds("round0001") },
      { stream: "tool-call", edit: withToolCallIds("round0002") },
      { stream: "after-tool" },
    ]);
    const { parts } = await run(body, runtime(new ModelRegistry([model]), { tools: [own.tool], maxIterations: 2 }), { stream: true });
    expect(model.bodies.map((b) => b.tool_choice)).toEqual(["auto", "auto", "none"]);
    expect(own.calls).toHaveLength(2);
    expect(parts.filter((p) => p.type === "tool_result").map((p) => p.id)).toEqual(["round0001", "round0002"]);
    expect(done(parts).steps).toHaveLength(2);
    expect(done(parts).usage).toEqual(sum("tool-call", "tool-call", "after-tool"));
  });

  it("runs no more rounds than maxIterations when the model ignores tool_choice none: its last calls go back unrun", async () => {
    const own = flightTool();
    const model = new FakeModel("mistral-large", [
      { completion: "tool-call", edit: withToolCallIds("round0001") },
      { completion: "tool-call", edit: withToolCallIds("round0002") },
    ]);
    const { parts } = await run(body, runtime(new ModelRegistry([model]), { tools: [own.tool], maxIterations: 1 }), { stream: false });
    expect(model.bodies.map((b) => b.tool_choice)).toEqual(["auto", "none"]);
    expect(own.calls).toHaveLength(1);
    const response = done(parts);
    expect(response.finish_reason).toBe("tool_calls");
    expect(response.message.tool_calls?.map((c) => c.id)).toEqual(["round0002"]);
    expect(response.steps).toHaveLength(1);
  });
});

describe("openChat: JSON output", () => {
  const json = { ...hello, response_format: { type: "json_object" } };

  it("stream shape: a non-JSON answer ends in one error part, invalid_model_output, after its deltas", async () => {
    const { parts } = await run(json, runtime(new ModelRegistry([new FakeModel("mistral-large", [{ stream: "text" }])])), { stream: true });
    expect(types(parts)).toEqual(["start", ...recordedDeltas("text").map(() => "delta"), "error"]);
    expect(failed(parts)).toMatchObject({ status: 502, code: "invalid_model_output" });
    expect(failed(parts).detail).toMatch(/^The model's answer is not valid JSON/);
  });

  it("JSON shape: collectChat throws the problem", async () => {
    const opened = await open(json, runtime(new ModelRegistry([new FakeModel("mistral-large", [{ completion: "text" }])])), { stream: false });
    await expect(collectChat(opened.parts)).rejects.toMatchObject({ status: 502, code: "invalid_model_output" });
  });

  it("a JSON answer is parsed", async () => {
    const model = new FakeModel("mistral-large", [{ stream: "text", edit: withText('{"greeting": "hello"}') }]);
    const { parts } = await run(json, runtime(new ModelRegistry([model])), { stream: true });
    expect(done(parts).message).toEqual({ role: "assistant", content: '{"greeting": "hello"}', parsed: { greeting: "hello" } });
    expect(model.calls[0]?.body.response_format).toEqual({ type: "json_object" });
  });
});

describe("openChat: content filtering", () => {
  for (const stream of [false, true]) {
    it(`${stream ? "stream" : "JSON"} shape: an answer cut off by the filter ends in done with finish_reason content_filter`, async () => {
      const body = { messages: [{ role: "user", content: "emulator: filter the answer" }] };
      const { parts } = await run(body, runtime(new ModelRegistry([new FakeModel("mistral-large", [answer(stream, "content-filter")])])), { stream });
      expect(terminal(parts)).toHaveLength(1);
      const response = done(parts);
      expect(response.finish_reason).toBe("content_filter");
      expect(response.message.content).toBe(recordedDeltas("content-filter").join(""));
      expect(deltas(parts).join("")).toBe(response.message.content);
    });
  }

  it("a filtered prompt (the seed's 400) rejects openChat, answered as content_filtered, and is no reason to fall back", async () => {
    const filtered = modelErrorFromResponse({ status: 400, header: () => undefined, body: seed("content-filter.response") }, []);
    const large = new FakeModel("mistral-large", [{ fail: filtered }]);
    const small = new FakeModel("mistral-small", [{ stream: "text" }]);
    const models = new ModelRegistry([large, small], new Map([["mistral-large", "mistral-small"]]));
    const error = await rejection(open(seed("content-filter.request"), runtime(models), { stream: true, allowFallback: true }));
    expect(error).toBe(filtered);
    expect(toProblem(error, { route: "app" })).toMatchObject({ status: 400, code: "content_filtered", extensions: { param: "prompt" } });
    expect(small.calls).toHaveLength(0);
  });
});

describe("openChat: failures after the first part", () => {
  const body = { messages: flightQuestion, server_tools: ["get_flight_info"] };

  for (const stream of [false, true]) {
    it(`${stream ? "stream" : "JSON"} shape: the second turn failing ends the parts in exactly one error`, async () => {
      const own = flightTool();
      const model = new FakeModel("mistral-large", [answer(stream, "tool-call"), { fail: upstreamFailure(503) }]);
      const opened = await open(body, runtime(new ModelRegistry([model]), { tools: [own.tool] }), { stream });
      const parts: ChatPart[] = [];
      for await (const part of opened.parts) parts.push(part);
      expect(types(parts)).toEqual(["start", "tool_call", "tool_result", "error"]);
      expect(terminal(parts)).toHaveLength(1);
      expect(failed(parts)).toMatchObject({ status: 503, code: "upstream_unavailable" });
    });
  }

  it("collectChat throws the error part's problem", async () => {
    const model = new FakeModel("mistral-large", [{ completion: "tool-call" }, { fail: upstreamFailure(500, "internal_server_error") }]);
    const opened = await open(body, runtime(new ModelRegistry([model]), { tools: [flightTool().tool] }), { stream: false });
    await expect(collectChat(opened.parts)).rejects.toMatchObject({ status: 502, code: "upstream_error" });
  });

  it("a stream that stalls ends in one error when the request's deadline passes", async () => {
    const model = new FakeModel("mistral-large", [{ stream: "stall" }]);
    const { parts } = await run(hello, runtime(new ModelRegistry([model])), { stream: true, deadlineAt: Date.now() + 100 });
    expect(types(parts)).toEqual(["start", ...recordedDeltas("stall").map(() => "delta"), "error"]);
    expect(failed(parts)).toMatchObject({ status: 504, code: "upstream_timeout" });
    expect(model.calls[0]?.outcome).toBe("failed");
  });

  it("a stream that stalls ends in one error, aborted, when the caller's signal fires", async () => {
    const controller = new AbortController();
    const opened = await open(hello, runtime(new ModelRegistry([new FakeModel("mistral-large", [{ stream: "stall" }])])), {
      stream: true,
      signal: controller.signal,
    });
    const parts: ChatPart[] = [];
    for await (const part of opened.parts) {
      parts.push(part);
      if (deltas(parts).length === recordedDeltas("stall").length) controller.abort();
    }
    expect(types(parts).at(-1)).toBe("error");
    expect(terminal(parts)).toHaveLength(1);
    expect(failed(parts)).toMatchObject({ status: 499, code: "aborted" });
  });
});

describe("openChat: fallback", () => {
  const fallbacks = new Map([["mistral-large", "mistral-small"]]);

  it("with allowFallback, a 503 from the first deployment: the fallback answers, under its alias, with the same body and deadline", async () => {
    const large = new FakeModel("mistral-large", [{ fail: upstreamFailure(503) }]);
    const small = new FakeModel("mistral-small", [{ stream: "text" }]);
    const deadlineAt = Date.now() + 5_000;
    const { alias, parts } = await run(hello, runtime(new ModelRegistry([large, small], fallbacks)), { stream: true, allowFallback: true, deadlineAt });
    expect(alias).toBe("mistral-small");
    expect(parts[0]).toMatchObject({ type: "start", model: "mistral-small" });
    expect(done(parts).model).toBe("mistral-small");
    expect(small.calls[0]?.body).toEqual(large.calls[0]?.body);
    expect([large.calls[0]?.options.deadlineAt, small.calls[0]?.options.deadlineAt]).toEqual([deadlineAt, deadlineAt]);
  });

  it("without allowFallback, openChat rejects with the first deployment's failure", async () => {
    const failure = upstreamFailure(503);
    const large = new FakeModel("mistral-large", [{ fail: failure }]);
    const small = new FakeModel("mistral-small", [{ stream: "text" }]);
    const error = await rejection(open(hello, runtime(new ModelRegistry([large, small], fallbacks)), { stream: true, allowFallback: false }));
    expect(error).toBe(failure);
    expect(toProblem(error, { route: "app" })).toMatchObject({ status: 503, code: "upstream_unavailable" });
    expect(small.calls).toHaveLength(0);
  });

  it("is never used after the first turn: a later failure is the chat's error", async () => {
    const large = new FakeModel("mistral-large", [{ stream: "tool-call" }, { fail: upstreamFailure(503) }]);
    const small = new FakeModel("mistral-small", [{ stream: "after-tool" }]);
    const { alias, parts } = await run(
      { messages: flightQuestion, server_tools: ["get_flight_info"] },
      runtime(new ModelRegistry([large, small], fallbacks), { tools: [flightTool().tool] }),
      {
        stream: true,
        allowFallback: true,
      },
    );
    expect(alias).toBe("mistral-large");
    expect(failed(parts)).toMatchObject({ status: 503, code: "upstream_unavailable" });
    expect(large.calls).toHaveLength(2);
    expect(small.calls).toHaveLength(0);
  });

  it("the fallback's own failure is what the caller hears", async () => {
    const large = new FakeModel("mistral-large", [{ fail: upstreamFailure(503) }]);
    const small = new FakeModel("mistral-small", [{ fail: new ModelError({ kind: "timeout", status: 504, code: "upstream_timeout", message: "slow" }) }]);
    const error = await rejection(open(hello, runtime(new ModelRegistry([large, small], fallbacks)), { stream: false, allowFallback: true }));
    expect(error).toMatchObject({ code: "upstream_timeout" });
    expect([large.calls.length, small.calls.length]).toEqual([1, 1]);
  });
});

describe("collectChat", () => {
  it("a parts sequence without a terminal part is an internal error", async () => {
    async function* parts(): AsyncGenerator<ChatPart> {
      yield { type: "start", id: "x", model: "m", created: 1 };
    }
    await expect(collectChat(parts())).rejects.toBeInstanceOf(HttpProblem);
    await expect(collectChat(parts())).rejects.toMatchObject({ status: 500, code: "internal_error" });
  });
});

describe("openChat: what a review found", () => {
  const body = { messages: flightQuestion, server_tools: ["get_flight_info"] };

  it("a chat left before its parts are read releases the first turn's stream: its quota is settled", async () => {
    const settled: unknown[] = [];
    const meter = { admit: async () => ({ settle: (usage: unknown, chunks: number) => settled.push({ usage, chunks }) }) };
    const policy = { maxRetries: 0, baseDelayMs: 1, budgetMs: 10_000, breaker: { failures: 100, windowMs: 1_000, coolDownMs: 1_000 } };
    const models = new ModelRegistry([new ModelPipeline(new FakeModel("mistral-large", [{ stream: "text" }]), policy)]);
    const chat = runtime(models);
    const prepared = await prepareChat({ messages: [{ role: "user", content: "Hi" }] }, chat, { meter, callerId: "key:test" });
    const opened = await openChat(prepared, { models, allowFallback: false, stream: true, deadlineAt: Date.now() + 10_000 });
    expect(settled).toEqual([]);
    await opened.parts[Symbol.asyncIterator]().return?.(undefined);
    expect(settled).toEqual([{ usage: undefined, chunks: 0 }]);
  });

  it("a forced tool_choice holds for the first turn only; later turns let the model answer", async () => {
    const own = flightTool();
    const model = new FakeModel("mistral-large", [{ stream: "tool-call" }, { stream: "after-tool" }]);
    const forced = { ...body, tool_choice: { type: "function", function: { name: "get_flight_info" } } };
    await run(forced, runtime(new ModelRegistry([model]), { tools: [own.tool] }), { stream: true });
    expect(model.bodies.map((b) => b.tool_choice)).toEqual([{ type: "function", function: { name: "get_flight_info" } }, "auto"]);
  });

  it("a chat keeps its first turn's id, in the stream's start and in the answer", async () => {
    const own = flightTool();
    const model = new FakeModel("mistral-large", [{ stream: "tool-call" }, { stream: "after-tool" }]);
    const { parts } = await run(body, runtime(new ModelRegistry([model]), { tools: [own.tool] }), { stream: true });
    const start = parts[0] as Extract<ChatPart, { type: "start" }>;
    expect(start.id).toBe(recordedChunks("tool-call")[0]?.id);
    expect(done(parts).id).toBe(start.id);
    expect(recordedChunks("after-tool")[0]?.id).not.toBe(start.id);
  });
});
