import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { loadScenarios, type ScenarioRule } from "../../dev/emulator/scenarios.js";
import { postJson, startEmulator } from "../support/emulator.js";
import { settingsFor, startHost } from "../support/host.js";
import { readEvents } from "../support/sse.js";

/**
 * HTTP tools from settings, against a local test server the settings allow-list (loopback allowed
 * for local development), and one refused because its address is private.
 */
const received: Array<{ path: string; headers: IncomingHttpHeaders; body: string }> = [];
let toolServer: Server;
let emulator: Awaited<ReturnType<typeof startEmulator>>;
let host: Awaited<ReturnType<typeof startHost>>;

const callTool = (phrase: string, name: string, args: Record<string, unknown>): ScenarioRule => ({
  match: { last_user_contains: phrase, tool: name },
  tool_call: { name, arguments: args },
});
const rules: ScenarioRule[] = [
  callTool("order status", "lookup_order", { order_id: "A-17" }),
  callTool("redirect me", "redirecting", { order_id: "A-17" }),
  callTool("big answer", "big_answer", { order_id: "A-17" }),
  callTool("slow answer", "slow_answer", { order_id: "A-17" }),
  callTool("internal probe", "internal_probe", { order_id: "A-17" }),
];

beforeAll(async () => {
  toolServer = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      received.push({ path: req.url ?? "", headers: req.headers, body });
      if (req.url === "/order")
        return res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ order: JSON.parse(body).order_id, status: "shipped" }));
      if (req.url === "/redirect") return res.writeHead(302, { location: "http://169.254.169.254/metadata" }).end();
      if (req.url === "/big") return res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ pad: "x".repeat(100_000) }));
      if (req.url === "/slow") return setTimeout(() => res.writeHead(200).end("{}"), 3_000);
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => toolServer.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(toolServer.address() as AddressInfo).port}`;
  const tool = (name: string, url: string) => ({
    name,
    description: `${name} over HTTP`,
    url,
    parameters: { type: "object", properties: { order_id: { type: "string" } }, required: ["order_id"] },
  });
  emulator = await startEmulator({ scenarios: [...rules, ...loadScenarios()] });
  host = await startHost(
    settingsFor(inject("stackSettings"), emulator.url, {
      HTTP_TOOL_ALLOWED_HOSTS: "127.0.0.1,10.255.255.1",
      HTTP_TOOLS_ALLOW_LOOPBACK: "true",
      HTTP_TOOL_MAX_RESPONSE_BYTES: "8192",
      TOOL_TIMEOUT_MS: "500",
      STREAM_HEARTBEAT_MS: "100",
      HTTP_TOOLS: JSON.stringify([
        tool("lookup_order", `${base}/order`),
        tool("redirecting", `${base}/redirect`),
        tool("big_answer", `${base}/big`),
        tool("slow_answer", `${base}/slow`),
        tool("internal_probe", "https://10.255.255.1/order"),
      ]),
    }),
  );
});
afterAll(async () => {
  await host?.stop();
  await emulator?.close();
  toolServer?.closeAllConnections();
  await new Promise((resolve) => toolServer?.close(resolve));
});

const ask = async (content: string, tool: string) => {
  const { status, json } = await postJson(`${host.url}/api/chat`, { messages: [{ role: "user", content }], server_tools: [tool] }, { "api-key": "dev-key" });
  expect(status).toBe(200);
  return json;
};

describe("HTTP tools", () => {
  it("POSTs the validated arguments to the allow-listed URL and hands the answer to the model", async () => {
    const before = received.length;
    const json = await ask("What is my order status?", "lookup_order");
    expect(json.steps).toEqual([{ tool_call: expect.objectContaining({ name: "lookup_order" }), result: { order: "A-17", status: "shipped" } }]);
    expect(json.message.content).toContain('"status":"shipped"');
    const request = received[before];
    expect(JSON.parse(request?.body ?? "")).toEqual({ order_id: "A-17" });
    expect(Object.keys(request?.headers ?? {}).sort()).toEqual(["accept", "connection", "content-length", "content-type", "host", "user-agent"]);
  });

  it("does not follow a redirect", async () => {
    const json = await ask("Please redirect me", "redirecting");
    expect(json.steps[0].error).toBe("The tool's service answered with a redirect (302), which is not followed.");
  });

  it("refuses an answer over the size cap", async () => {
    const json = await ask("Give me a big answer", "big_answer");
    expect(json.steps[0].error).toBe("The tool's answer is larger than 8192 bytes.");
  });

  it("gives up on a tool that does not answer in time", async () => {
    const json = await ask("A slow answer please", "slow_answer");
    expect(json.steps[0].error).toBe("The tool did not answer within 500 ms.");
  });

  it("keeps a stream alive with pings while a tool runs", async () => {
    const response = await fetch(`${host.url}/api/chat/stream`, {
      method: "POST",
      headers: { "api-key": "dev-key", "content-type": "application/json" },
      body: JSON.stringify({ messages: [{ role: "user", content: "A slow answer please" }], server_tools: ["slow_answer"] }),
    });
    const { order } = await readEvents(response);
    const call = order.indexOf("tool_call");
    const result = order.indexOf("tool_result");
    expect(call).toBeGreaterThanOrEqual(0);
    expect(order.slice(call, result)).toContain(":ping");
    expect(order.at(-1)).toBe("done");
  });

  it("refuses a private address written in the URL, without connecting", async () => {
    const json = await ask("Run the internal probe", "internal_probe");
    expect(json.steps[0].error).toBe("The tool's address is not allowed.");
  });
});

describe("HTTP tools without local development's loopback allowance", () => {
  it("refuses a name that resolves to a loopback address, before connecting", async () => {
    const port = (toolServer.address() as AddressInfo).port;
    const strict = await startHost(
      settingsFor(inject("stackSettings"), emulator.url, {
        HTTP_TOOL_ALLOWED_HOSTS: "localhost",
        HTTP_TOOLS: JSON.stringify([
          {
            name: "internal_probe",
            description: "d",
            url: `https://localhost:${port}/order`,
            parameters: { type: "object", properties: { order_id: { type: "string" } } },
          },
        ]),
      }),
    );
    try {
      const before = received.length;
      const { json } = await postJson(
        `${strict.url}/api/chat`,
        { messages: [{ role: "user", content: "Run the internal probe" }], server_tools: ["internal_probe"] },
        { "api-key": "dev-key" },
      );
      expect(json.steps[0].error).toBe("The tool's address is not allowed.");
      expect(received.length).toBe(before);
    } finally {
      await strict.stop();
    }
  });
});
