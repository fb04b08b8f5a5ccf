import { createHash } from "node:crypto";
import { HttpRequest, type HttpResponseInit, InvocationContext } from "@azure/functions";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../../src/config/index.js";
import { type SseEvent, sseEventResponse } from "../../../src/http/sse.js";
import { ModelRegistry } from "../../../src/inference/index.js";
import { createRuntime, type Runtime, setRuntime } from "../../../src/runtime.js";
import { seed } from "../../support/emulator.js";
import { FakeModel, recordedChunks, recordedDeltas, recordedToolCalls, recordedUsage, type Turn, upstreamFailure } from "../../support/fake-model.js";

/** The whole body of a streamed response, as the bytes the host would send. */
async function bodyText(response: HttpResponseInit): Promise<string> {
  if (response.body === undefined) return "";
  const decoder = new TextDecoder();
  let text = "";
  for await (const bytes of response.body as AsyncIterable<Uint8Array>) text += decoder.decode(bytes, { stream: true });
  return text + decoder.decode();
}

/** Frames, each with its blank line, checked to cover the whole body. */
function frames(text: string): string[] {
  const out = text.match(/[\s\S]*?\n\n/g) ?? [];
  expect(out.join("")).toBe(text);
  return out;
}

const terminalFrames = (list: string[]) => list.filter((frame) => /^event: (done|error)\n/.test(frame));

describe("sseEventResponse", () => {
  it("writes each event as `event:` and one `data:` line of JSON, ended by a blank line, in order", async () => {
    async function* events(): AsyncGenerator<SseEvent> {
      yield { event: "start", data: { id: "c1", model: "mistral-large", created: 1 } };
      yield { event: "delta", data: { content: "two\nlines and \u00e9" } };
      yield { event: "done", data: { finish_reason: "stop" } };
    }
    const response = sseEventResponse(events(), { heartbeatMs: 60_000, headers: { "x-model-deployment": "mistral-large" } });
    expect(response.status).toBe(200);
    expect(response.headers).toEqual({
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      "x-accel-buffering": "no",
      "x-model-deployment": "mistral-large",
    });
    expect(await bodyText(response)).toBe(
      'event: start\ndata: {"id":"c1","model":"mistral-large","created":1}\n\n' +
        'event: delta\ndata: {"content":"two\\nlines and \u00e9"}\n\n' +
        'event: done\ndata: {"finish_reason":"stop"}\n\n',
    );
  });

  it("sends `: ping` while the events are silent longer than heartbeatMs, between two events", async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    async function* events(): AsyncGenerator<SseEvent> {
      yield { event: "start", data: { id: "c1" } };
      // Silent until the reader has seen a heartbeat: no timing is assumed (the 2 s bound only keeps
      // a broken heartbeat from hanging the test: the expectation below then fails).
      await Promise.race([released, new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
      yield { event: "done", data: {} };
    }
    const response = sseEventResponse(events(), { heartbeatMs: 20 });
    const decoder = new TextDecoder();
    let text = "";
    for await (const bytes of response.body as AsyncIterable<Uint8Array>) {
      const frame = decoder.decode(bytes);
      text += frame;
      if (frame === ": ping\n\n") release();
    }
    expect(text).toMatch(/^event: start\ndata: \{"id":"c1"\}\n\n(: ping\n\n)+event: done\ndata: \{\}\n\n$/);
  });

  it("ends with the events: nothing after the last one, not even a ping", async () => {
    async function* events(): AsyncGenerator<SseEvent> {
      yield { event: "error", data: { code: "x" } };
    }
    expect(await bodyText(sseEventResponse(events(), { heartbeatMs: 1 }))).toMatch(/^(: ping\n\n)*event: error\ndata: \{"code":"x"\}\n\n$/);
  });

  it("closes the events' source when the reader stops", async () => {
    let closed = false;
    async function* events(): AsyncGenerator<SseEvent> {
      try {
        yield { event: "start", data: {} };
        yield { event: "delta", data: { content: "never read" } };
      } finally {
        closed = true;
      }
    }
    const body = (sseEventResponse(events(), { heartbeatMs: 60_000 }).body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    expect(new TextDecoder().decode((await body.next()).value)).toBe("event: start\ndata: {}\n\n");
    await body.return?.();
    expect(closed).toBe(true);
  });
});

/**
 * POST /api/chat/stream in-process: the route's own handler (chatStreamHandler: parts to events to
 * sseEventResponse), over a runtime whose one deployment is a fake model. No HTTP server.
 */
describe("POST /api/chat/stream's bytes, from recorded model streams", () => {
  const KEY = "sse-events-test-key";
  let base: Runtime;
  let chatStreamHandler: typeof import("../../../src/functions/chat-stream.js").chatStreamHandler;

  beforeAll(async () => {
    base = createRuntime(
      loadConfig({
        MODEL_DEPLOYMENTS: "mistral-large",
        MODEL_MISTRAL_LARGE_ENDPOINT: "http://localhost:1/mistral-large",
        MODEL_MISTRAL_LARGE_MODEL: "Mistral-Large",
        MODEL_MISTRAL_LARGE_KEY: "k",
        CALLER_KEYS: `test:${createHash("sha256").update(KEY).digest("hex")}`,
        AzureWebJobsStorage: "UseDevelopmentStorage=true",
      }),
    );
    // The module registers its function with the process's runtime when loaded: give it this one.
    setRuntime(base);
    const quiet = [vi.spyOn(console, "warn").mockImplementation(() => undefined), vi.spyOn(console, "log").mockImplementation(() => undefined)];
    ({ chatStreamHandler } = await import("../../../src/functions/chat-stream.js"));
    for (const spy of quiet) spy.mockRestore();
  });
  afterAll(() => setRuntime(undefined));

  async function post(body: unknown, turns: Turn[], config: { streamHeartbeatMs?: number; modelTimeoutMs?: number } = {}) {
    const model = new FakeModel("mistral-large", turns);
    const runtime: Runtime = { ...base, config: { ...base.config, streamHeartbeatMs: 60_000, ...config }, models: new ModelRegistry([model]) };
    const logged: string[] = [];
    const invocation = new InvocationContext({
      invocationId: "inv-sse-1",
      functionName: "chatStream",
      logHandler: (level, ...args) => logged.push(`${level}: ${args.join(" ")}`),
    });
    const request = new HttpRequest({
      url: "http://localhost/api/chat/stream",
      method: "POST",
      headers: { "content-type": "application/json", "api-key": KEY },
      body: { string: JSON.stringify(body) },
    });
    const response = (await chatStreamHandler(runtime)(request, invocation)) as HttpResponseInit;
    return { response, model, logged, text: await bodyText(response) };
  }

  const event = (name: string, data: string) => `event: ${name}\ndata: ${data}\n\n`;

  it("a text answer: start, a delta per recorded piece, one done, byte for byte", async () => {
    const { response, text, model } = await post({ messages: [{ role: "user", content: "Say hello." }] }, [{ stream: "text" }]);
    expect(response.status).toBe(200);
    expect(response.headers).toMatchObject({
      "content-type": "text/event-stream; charset=utf-8",
      "x-model-deployment": "mistral-large",
      "x-request-id": "inv-sse-1",
    });
    const [first] = recordedChunks("text");
    const usage = recordedUsage("text");
    const content = recordedDeltas("text").join("");
    expect(text).toBe(
      event("start", `{"id":"${first?.id}","model":"mistral-large","created":${first?.created}}`) +
        recordedDeltas("text")
          .map((piece) => event("delta", `{"content":${JSON.stringify(piece)}}`))
          .join("") +
        event(
          "done",
          `{"finish_reason":"stop","usage":{"prompt_tokens":${usage.prompt_tokens},"completion_tokens":${usage.completion_tokens},"total_tokens":${usage.total_tokens}},"message":{"role":"assistant","content":${JSON.stringify(content)}}}`,
        ),
    );
    expect(model.calls[0]?.method).toBe("stream");
  });

  it("a failure after the first byte: the tool events, then exactly one error event with the problem, logged as a warning", async () => {
    const body = { messages: seed("tools.request").messages, server_tools: ["get_flight_info"] };
    const { text, logged } = await post(body, [{ stream: "tool-call" }, { fail: upstreamFailure(503) }]);
    const list = frames(text);
    expect(list.map((frame) => frame.slice(0, frame.indexOf("\n")))).toEqual(["event: start", "event: tool_call", "event: tool_result", "event: error"]);
    const [call] = recordedToolCalls("tool-call");
    expect(list[1]).toBe(event("tool_call", JSON.stringify({ id: call?.id, name: "get_flight_info", arguments: call?.function.arguments })));
    expect(list[2]).toBe(
      event(
        "tool_result",
        JSON.stringify({
          id: call?.id,
          name: "get_flight_info",
          content: { info: "There are no flights available from Miami to Seattle. You should take a train, specially if it helps to reduce CO2 emissions." },
        }),
      ),
    );
    expect(list[3]).toBe(
      event(
        "error",
        '{"type":"urn:mistral-functions:problem:upstream_unavailable","title":"Service Unavailable","status":503,"detail":"The model endpoint answered 503.","code":"upstream_unavailable","request_id":"inv-sse-1"}',
      ),
    );
    expect(terminalFrames(list)).toHaveLength(1);
    expect(logged).toContain("warning: Stream failed after its first byte: 503 upstream_unavailable: The model endpoint answered 503.");
  });

  it("a stalled model stream: pings between the last delta and the one error event at the deadline", async () => {
    const { text } = await post({ messages: [{ role: "user", content: "Say hello." }] }, [{ stream: "stall" }], { streamHeartbeatMs: 20, modelTimeoutMs: 150 });
    const list = frames(text);
    const names = list.map((frame) => (frame === ": ping\n\n" ? "ping" : (/^event: (\w+)\n/.exec(frame)?.[1] ?? frame)));
    const lastDelta = names.lastIndexOf("delta");
    expect(names.slice(0, lastDelta + 1)).toEqual(["start", ...recordedDeltas("stall").map(() => "delta")]);
    expect(names.at(-1)).toBe("error");
    const between = names.slice(lastDelta + 1, -1);
    expect(between.length).toBeGreaterThan(0);
    expect(new Set(between)).toEqual(new Set(["ping"]));
    expect(terminalFrames(list)).toHaveLength(1);
    expect(list.at(-1)).toMatch(
      /^event: error\ndata: \{"type":"urn:mistral-functions:problem:upstream_timeout","title":"Gateway Timeout","status":504,.*"code":"upstream_timeout","request_id":"inv-sse-1"\}\n\n$/,
    );
  });

  it("a failure before the model accepted the request is a plain problem, not a stream", async () => {
    const { response, text } = await post({ messages: [{ role: "user", content: "Say hello." }] }, [{ fail: upstreamFailure(503) }]);
    expect(response.status).toBe(503);
    expect(response.headers).toMatchObject({ "content-type": "application/problem+json" });
    expect(text).toBe("");
    expect(response.jsonBody).toMatchObject({ code: "upstream_unavailable", request_id: "inv-sse-1" });
  });

  it("releases its source when the body is left before its first read", async () => {
    let released = false;
    const source: AsyncIterable<SseEvent> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => ({ done: false as const, value: { event: "x", data: 1 } }),
        return: async () => {
          released = true;
          return { done: true as const, value: undefined };
        },
      }),
    };
    const response = sseEventResponse(source, { heartbeatMs: 1_000 });
    await (response.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]().return?.();
    expect(released).toBe(true);
  });
});
