import { describe, expect, it } from "vitest";
import type { WireToolCall } from "../../../src/inference/index.js";
import { type ServerTool, ToolError } from "../../../src/tools/server-tool.js";
import { ToolRegistry } from "../../../src/tools/tool-registry.js";
import { ToolSession } from "../../../src/tools/tool-session.js";

const tool = (name: string, execute: ServerTool["execute"]): ServerTool => ({
  name,
  description: name,
  parameters: { type: "object", properties: { n: { type: "integer" } } },
  execute,
});
const registry = new ToolRegistry([
  tool("echo", async (args) => ({ echoed: args.n })),
  tool("slow", (_args, signal) => new Promise((resolve) => signal.addEventListener("abort", () => resolve("too late")))),
  tool("stuck", () => new Promise(() => undefined)),
  tool("boom", async () => {
    throw new Error("connection string AccountKey=secret leaked");
  }),
  tool("refuse", async () => {
    throw new ToolError("The service said no.");
  }),
  tool("big", async () => ({ text: "x".repeat(5_000) })),
]);
const limits = { timeoutMs: 50, maxOutputBytes: 1_000, maxIterations: 3 };
const call = (id: string, name: string, args = "{}"): WireToolCall => ({ id, type: "function", function: { name, arguments: args } });

async function runAll(session: ToolSession, calls: WireToolCall[]) {
  const out = [];
  for await (const item of session.run(calls, new AbortController().signal)) out.push(item);
  return out;
}

describe("ToolSession", () => {
  it("offers the allowed tools only", () => {
    const session = new ToolSession(registry, ["echo"], limits);
    expect(session.definitions()).toEqual([{ type: "function", function: { name: "echo", description: "echo", parameters: expect.any(Object) } }]);
  });

  it("runs calls and gives the model each result as a tool message", async () => {
    const [item] = await runAll(new ToolSession(registry, ["echo"], limits), [call("a", "echo", '{"n":2}')]);
    expect(item?.step).toEqual({ tool_call: { id: "a", name: "echo", arguments: '{"n":2}' }, result: { echoed: 2 } });
    expect(item?.message).toEqual({ role: "tool", tool_call_id: "a", content: '{"echoed":2}' });
  });

  it("times out tools that take too long, whether or not they listen to their signal", async () => {
    const items = await runAll(new ToolSession(registry, ["slow", "stuck"], limits), [call("a", "slow"), call("b", "stuck")]);
    expect(items.map((i) => i.step.error)).toEqual(["The tool did not answer within 50 ms.", "The tool did not answer within 50 ms."]);
  });

  it("shows the model a short error for a failing tool, never the error's own text", async () => {
    const items = await runAll(new ToolSession(registry, ["boom", "refuse"], limits), [call("a", "boom"), call("b", "refuse")]);
    const errors = Object.fromEntries(items.map((i) => [i.step.tool_call.name, i.step.error]));
    expect(errors).toEqual({ boom: "The tool failed.", refuse: "The service said no." });
    expect(JSON.stringify(items)).not.toContain("secret");
  });

  it("refuses bad JSON, schema violations, tools not allowed, and a call id it already ran", async () => {
    const session = new ToolSession(registry, ["echo"], limits);
    const items = await runAll(session, [call("a", "echo", "{"), call("b", "echo", '{"n":"two"}'), call("c", "boom")]);
    expect(items.map((i) => i.step.error)).toEqual([
      "The arguments are not valid JSON.",
      "Invalid arguments: /n must be integer.",
      "There is no tool named boom. Available: echo.",
    ]);
    const [again] = await runAll(session, [call("a", "echo")]);
    expect(again?.step.error).toBe("The tool call a has already run.");
    expect(session.steps).toHaveLength(4);
  });

  it("cuts output over the size cap, escaping included", async () => {
    const quotes = new ToolRegistry([tool("quotes", async () => '"\\'.repeat(3_000))]);
    const [item] = await runAll(new ToolSession(quotes, ["quotes"], limits), [call("a", "quotes")]);
    expect(Buffer.byteLength(item?.message.content as string)).toBeLessThanOrEqual(1_000);
    expect(JSON.parse(item?.message.content as string)).toMatchObject({ truncated: true });
  });

  it("keeps one call per id in a turn", () => {
    expect(ToolSession.unique([call("a", "echo"), call("b", "echo"), call("a", "boom")]).map((c) => `${c.id}:${c.function.name}`)).toEqual([
      "a:echo",
      "b:echo",
    ]);
  });

  it("cuts output over the size cap", async () => {
    const [item] = await runAll(new ToolSession(registry, ["big"], limits), [call("a", "big")]);
    expect(item?.step.result).toMatchObject({ truncated: true });
    expect(Buffer.byteLength(item?.message.content as string)).toBeLessThan(1_100);
  });

  it("answers calls past the per-turn and per-request limits with an error, without running them", async () => {
    let runs = 0;
    const counting = new ToolRegistry([tool("count", async () => ++runs)]);
    const session = new ToolSession(counting, ["count"], { ...limits, maxCallsPerTurn: 3, maxCallsPerRequest: 5 });
    const turn = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => call(`${prefix}${i}`, "count"));
    const first = await runAll(session, turn("a", 10));
    expect(first).toHaveLength(10);
    expect(first.filter((item) => item.step.error === undefined)).toHaveLength(3);
    expect(first.find((item) => item.index === 9)?.step.error).toMatch(/at most 3 tool calls are run per turn/);
    const second = await runAll(session, turn("b", 3));
    expect(second.filter((item) => item.step.error === undefined)).toHaveLength(2);
    expect(second.filter((item) => /per request/.test(item.step.error ?? ""))).toHaveLength(1);
    expect(runs).toBe(5);
  });

  it("runs at most maxConcurrent calls of a request at once, and at most the registry's slots over all requests", async () => {
    let running = 0;
    let most = 0;
    const gauge = async () => {
      most = Math.max(most, ++running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
      return "ok";
    };
    const shared = new ToolRegistry([tool("gauge", gauge)], { maxConcurrent: 3 });
    const session = () => new ToolSession(shared, ["gauge"], { ...limits, maxCallsPerTurn: 8, maxConcurrent: 2 });
    const calls = Array.from({ length: 6 }, (_, i) => call(`c${i}`, "gauge"));
    await runAll(session(), calls);
    expect(most).toBe(2);
    most = 0;
    const results = await Promise.all([runAll(session(), calls), runAll(session(), calls), runAll(session(), calls)]);
    expect(most).toBe(3);
    expect(results.flat().every((item) => item.step.result === "ok")).toBe(true);
  });

  it("abandons a tool that ignores its signal when the request ends, without waiting for its own timeout", async () => {
    const session = new ToolSession(registry, ["stuck"], { ...limits, timeoutMs: 60_000 });
    const request = new AbortController();
    setTimeout(() => request.abort(), 20);
    const items = [];
    for await (const item of session.run([call("a", "stuck")], request.signal)) items.push(item);
    expect(items[0]?.step.error).toMatch(/request ended first/);
  });
});
