import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { loadScenarios, type ScenarioRule } from "../../dev/emulator/scenarios.js";
import { postJson, seed, startEmulator } from "../support/emulator.js";
import { settingsFor, startHost } from "../support/host.js";
import { readEvents } from "../support/sse.js";

/**
 * Server-run tools over real HTTP: the model (an emulator with scripted calls) asks for tools, the
 * app runs them and hands back the results, in one request, as JSON and as a stream.
 */
const rules: ScenarioRule[] = [
  {
    match: { last_user_contains: "two trips", tool: "get_flight_info" },
    tool_calls: [
      { name: "get_flight_info", arguments: { origin_city: "Miami", destination_city: "Seattle" } },
      { name: "get_flight_info", arguments: { origin_city: "Paris", destination_city: "Berlin" } },
    ],
  },
  { match: { last_user_contains: "bad arguments", tool: "get_flight_info" }, tool_call: { name: "get_flight_info", arguments: { origin_city: "Miami" } } },
  { match: { last_user_contains: "book a hotel", tool: "get_flight_info" }, tool_call: { name: "book_hotel", arguments: { city: "Paris" } } },
  {
    match: { last_user_contains: "loop forever", tool: "get_flight_info" },
    tool_call: { name: "get_flight_info", arguments: { origin_city: "A", destination_city: "B" } },
  },
  {
    match: { last_user_contains: "loop forever", after_tool: "get_flight_info" },
    tool_call: { name: "get_flight_info", arguments: { origin_city: "A", destination_city: "B" } },
  },
];

let emulator: Awaited<ReturnType<typeof startEmulator>>;
let host: Awaited<ReturnType<typeof startHost>>;

beforeAll(async () => {
  emulator = await startEmulator({ scenarios: [...rules, ...loadScenarios()] });
  host = await startHost(settingsFor(inject("stackSettings"), emulator.url, { TOOL_MAX_ITERATIONS: "3" }));
});
afterAll(async () => {
  await host?.stop();
  await emulator?.close();
});
beforeEach(() => emulator.emulator.reset());

const ask = (content: string, extra: Record<string, unknown> = {}) =>
  postJson(`${host.url}/api/chat`, { messages: [{ role: "user", content }], server_tools: ["get_flight_info"], ...extra }, { "api-key": "dev-key" });
const toolMessages = (requestIndex: number) =>
  (
    (emulator.emulator.log.entries()[requestIndex]?.body as { messages: Array<{ role: string; content: string; tool_call_id?: string }> }).messages ?? []
  ).filter((m) => m.role === "tool");

describe("server-run tools, JSON", () => {
  it("runs the seed's flight example in one call and lists the step", async () => {
    const { status, json } = await ask("When is the next flight from Miami to Seattle?");
    expect(status).toBe(200);
    expect(json.message.content).toBe(
      "There are no flights available from Miami to Seattle. You should take a train, specially if it helps to reduce CO2 emissions.",
    );
    expect(json.steps).toEqual([
      {
        tool_call: {
          id: expect.stringMatching(/^[A-Za-z0-9]{9}$/),
          name: "get_flight_info",
          arguments: '{"origin_city":"Miami","destination_city":"Seattle"}',
        },
        result: { info: "There are no flights available from Miami to Seattle. You should take a train, specially if it helps to reduce CO2 emissions." },
      },
    ]);
    const [first, second] = emulator.emulator.log.entries();
    expect((first?.body as { tools: Array<{ function: { name: string } }> }).tools.map((t) => t.function.name)).toEqual(["get_flight_info"]);
    expect(toolMessages(1)).toEqual([{ role: "tool", tool_call_id: json.steps[0].tool_call.id, content: JSON.stringify(json.steps[0].result) }]);
    expect(second?.outcome.status).toBe(200);
    // Usage covers both model calls: the second one's prompt alone holds the whole first exchange.
    expect(json.usage.total_tokens).toBe(json.usage.prompt_tokens + json.usage.completion_tokens);
    expect(json.usage.prompt_tokens).toBeGreaterThan(200);
  });

  it("runs parallel tool calls and answers each", async () => {
    const { json } = await ask("Plan two trips for me");
    expect(json.steps.map((s: { result: { info: string } }) => s.result.info).sort()).toEqual([
      "There are no flights available from Miami to Seattle. You should take a train, specially if it helps to reduce CO2 emissions.",
      "There are no flights available from Paris to Berlin. You should take a train, specially if it helps to reduce CO2 emissions.",
    ]);
    expect(
      toolMessages(1)
        .map((m) => m.tool_call_id)
        .sort(),
    ).toEqual(json.steps.map((s: { tool_call: { id: string } }) => s.tool_call.id).sort());
  });

  it("gives the model a tool error for invalid arguments, without running the tool", async () => {
    const { json } = await ask("Use bad arguments");
    expect(json.steps).toEqual([
      {
        tool_call: expect.objectContaining({ name: "get_flight_info" }),
        error: "Invalid arguments: the arguments must have required property 'destination_city'.",
      },
    ]);
    expect(JSON.parse(toolMessages(1)[0]?.content ?? "{}")).toEqual({ error: json.steps[0].error });
    expect(json.message.content).toContain("Invalid arguments");
  });

  it("gives the model a tool error for an unknown tool", async () => {
    const { json } = await ask("Please book a hotel");
    expect(json.steps[0]).toMatchObject({ tool_call: { name: "book_hotel" }, error: "There is no tool named book_hotel. Available: get_flight_info." });
  });

  it("stops at the iteration cap with a text answer", async () => {
    const { status, json } = await ask("loop forever please");
    expect(status).toBe(200);
    expect(json.steps).toHaveLength(3);
    expect(json.finish_reason).toBe("stop");
    const requests = emulator.emulator.log.entries();
    expect(requests).toHaveLength(4);
    expect((requests[3]?.body as { tool_choice: string }).tool_choice).toBe("none");
  });

  it("refuses unknown server tools and mixing with client tools, before the model is called", async () => {
    const unknown = await ask("Hi", { server_tools: ["delete_everything"] });
    expect([unknown.status, unknown.json.param]).toEqual([400, "server_tools[0]"]);
    const mixed = await ask("Hi", { tools: seed("tools.request").tools });
    expect([mixed.status, mixed.json.param]).toEqual([400, "server_tools"]);
    expect(emulator.emulator.log.entries()).toHaveLength(0);
  });
});

describe("server-run tools, stream", () => {
  it("streams the flight example: tool_call, tool_result, the answer's deltas, done", async () => {
    const response = await fetch(`${host.url}/api/chat/stream`, {
      method: "POST",
      headers: { "api-key": "dev-key", "content-type": "application/json" },
      body: JSON.stringify({ messages: [{ role: "user", content: "When is the next flight from Miami to Seattle?" }], server_tools: ["get_flight_info"] }),
    });
    const { events } = await readEvents(response);
    const kinds = events.map((e) => e.event);
    expect(kinds.slice(0, 3)).toEqual(["start", "tool_call", "tool_result"]);
    expect(kinds.slice(3, -1).every((k) => k === "delta")).toBe(true);
    expect(kinds.at(-1)).toBe("done");
    expect(events[2]?.data).toEqual({ id: events[1]?.data.id, name: "get_flight_info", content: { info: expect.stringContaining("from Miami to Seattle") } });
    const text = events
      .filter((e) => e.event === "delta")
      .map((e) => e.data.content)
      .join("");
    expect(events.at(-1)?.data.message.content).toBe(text);
    expect(text).toContain("There are no flights available from Miami to Seattle.");
  });
});
