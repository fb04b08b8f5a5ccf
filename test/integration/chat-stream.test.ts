import { beforeAll, describe, expect, it } from "vitest";
import { postJson, seed } from "../support/emulator.js";
import { useOwnApp } from "../support/host.js";
import { readEvents } from "../support/sse.js";

/** POST /api/chat/stream read frame by frame with a browser-compatible SSE parser. */
const app = useOwnApp({ STREAM_HEARTBEAT_MS: "100", MODEL_MAX_RETRIES: "0" });
let api: string;
beforeAll(() => {
  api = `${app.host.url}/api/chat/stream`;
});

const stream = (body: unknown) =>
  fetch(api, { method: "POST", headers: { "api-key": "dev-key", "content-type": "application/json" }, body: JSON.stringify(body) });
const terminal = (events: Array<{ event: string }>) => events.filter((e) => e.event === "done" || e.event === "error");

describe("POST /api/chat/stream", () => {
  it("streams start, the text as deltas, and one done event with the whole message", async () => {
    const response = await stream(seed("chat.request"));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("no-cache");
    expect(response.headers.get("x-accel-buffering")).toBe("no");
    const { events, raw } = await readEvents(response);
    expect(raw.endsWith("\n\n")).toBe(true);
    expect(events[0]).toEqual({ event: "start", data: { id: expect.any(String), model: "mistral-large", created: expect.any(Number) } });
    const deltas = events.filter((e) => e.event === "delta");
    expect(deltas.length).toBeGreaterThan(10);
    const answer = seed("chat.response").choices[0].message.content;
    expect(deltas.map((d) => d.data.content).join("")).toBe(answer);
    expect(terminal(events)).toHaveLength(1);
    expect(events.at(-1)).toEqual({
      event: "done",
      data: {
        finish_reason: "stop",
        usage: { prompt_tokens: expect.any(Number), completion_tokens: deltas.length, total_tokens: expect.any(Number) },
        message: { role: "assistant", content: answer },
      },
    });
  });

  it("sends each complete tool call as a tool_call event before done", async () => {
    const { events } = await readEvents(await stream(seed("tools.request")));
    expect(events.map((e) => e.event)).toEqual(["start", "tool_call", "done"]);
    expect(events[1]?.data).toMatchObject({ id: expect.stringMatching(/^[A-Za-z0-9]{9}$/), name: "get_flight_info" });
    expect(JSON.parse(events[1]?.data.arguments)).toEqual({ origin_city: "Miami", destination_city: "Seattle" });
    expect(events[2]?.data.finish_reason).toBe("tool_calls");
    expect(events[2]?.data.message.tool_calls[0].id).toBe(events[1]?.data.id);
  });

  it("keeps a silent connection alive with ping comments", async () => {
    await postJson(`${app.emulator.url}/_emulator/settings`, { ttft_ms: 400 });
    const { order } = await readEvents(await stream({ messages: [{ role: "user", content: "Hi" }], max_tokens: 2 }));
    expect(order.indexOf(":ping")).toBeGreaterThanOrEqual(0);
    expect(order.indexOf(":ping")).toBeLessThan(order.indexOf("start"));
    expect(order.at(-1)).toBe("done");
  });

  it("ends a stream whose upstream fails mid-way with exactly one error event", async () => {
    await postJson(`${app.emulator.url}/_emulator/faults`, { faults: [{ reset_after_chunks: 4 }] });
    const { events } = await readEvents(await stream(seed("chat.request")));
    expect(events[0]?.event).toBe("start");
    expect(events.filter((e) => e.event === "delta").length).toBeGreaterThan(0);
    expect(terminal(events)).toEqual([events.at(-1)]);
    expect(events.at(-1)).toMatchObject({ event: "error", data: { code: "upstream_stream_broken", status: 502, request_id: expect.any(String) } });
  });

  it("ends a JSON-mode stream whose answer does not parse with an error event", async () => {
    const chunk = (delta: object, finish: string | null) =>
      `data: ${JSON.stringify({ id: "x", object: "chat.completion.chunk", created: 1, model: "M", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    const body = `${chunk({ role: "assistant", content: "not " }, null) + chunk({ content: "json" }, "stop")}data: [DONE]\n\n`;
    await postJson(`${app.emulator.url}/_emulator/faults`, { faults: [{ status: 200, headers: { "content-type": "text/event-stream" }, body }] });
    const { events } = await readEvents(await stream({ messages: [{ role: "user", content: "Hi" }], response_format: { type: "json_object" } }));
    expect(events.map((e) => e.event)).toEqual(["start", "delta", "delta", "error"]);
    expect(events.at(-1)?.data.code).toBe("invalid_model_output");
  });

  it("ends a stream that holds no answer at all with an error event", async () => {
    await postJson(`${app.emulator.url}/_emulator/faults`, {
      faults: [{ status: 200, headers: { "content-type": "text/event-stream" }, body: "data: [DONE]\n\n" }],
    });
    const { events } = await readEvents(await stream(seed("chat.request")));
    expect(events).toEqual([{ event: "error", data: expect.objectContaining({ code: "bad_upstream_response" }) }]);
  });

  it("answers a failure before the first byte as a plain problem, not a stream", async () => {
    await postJson(`${app.emulator.url}/_emulator/faults`, { faults: [{ status: 503, headers: { "retry-after": "3" } }] });
    const response = await stream(seed("chat.request"));
    expect(response.status).toBe(503);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(response.headers.get("retry-after")).toBe("3");
    expect(((await response.json()) as { code: string }).code).toBe("upstream_unavailable");
  });

  it("refuses bad input as a plain problem, with nothing sent upstream", async () => {
    const response = await stream({ messages: [{ role: "user", content: "Hi" }], top_p: 7 });
    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(app.emulator.emulator.log.entries()).toHaveLength(0);
  });

  it("answers a filtered prompt as a plain 400 content_filtered problem", async () => {
    const response = await stream(seed("content-filter.request"));
    expect(response.status).toBe(400);
    expect(((await response.json()) as { code: string }).code).toBe("content_filtered");
  });
});
