import { describe, expect, inject, it } from "vitest";
import { upstreamModel } from "../support/model-api.js";

const api = `${inject("hostUrl")}/api`;

async function get(path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${api}${path}`, { headers });
  const text = await response.text();
  return { response, text, json: text ? JSON.parse(text) : undefined };
}

describe("GET /api/health", () => {
  it("answers anonymously with ok and an x-request-id", async () => {
    const { response, json } = await get("/health");
    expect(response.status).toBe(200);
    expect(json).toEqual({ status: "ok" });
    expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f]{32}$/);
  });

  it("names the request by its trace id: the caller's traceparent continues, a new trace otherwise", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const continued = await get("/health", { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
    expect(continued.response.headers.get("x-request-id")).toBe(traceId);
    const [first, second] = [await get("/health"), await get("/health")];
    expect(first.response.headers.get("x-request-id")).not.toBe(second.response.headers.get("x-request-id"));
    const malformed = await get("/health", { traceparent: "00-not-a-trace-01" });
    expect(malformed.response.headers.get("x-request-id")).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe("GET /api/health/ready", () => {
  it("is ready when the configuration, both deployments, storage and the jobs' queue answer", async () => {
    const { response, json } = await get("/health/ready");
    expect(response.status).toBe(200);
    expect(json.status).toBe("ready");
    expect(json.checks.map((c: { name: string; status: string }) => [c.name, c.status])).toEqual([
      ["config", "ok"],
      ["credential:mistral-large", "ok"],
      ["credential:mistral-small", "ok"],
      ["model:mistral-large", "ok"],
      ["model:mistral-small", "ok"],
      ["storage", "ok"],
      ["queue", "ok"],
    ]);
  });
});

describe("GET /api/info", () => {
  const expected = {
    deployments: [
      { alias: "mistral-large", default: true, model_name: upstreamModel("mistral-large"), model_type: "chat-completions", model_provider_name: "MistralAI" },
      { alias: "mistral-small", default: false, model_name: upstreamModel("mistral-small"), model_type: "chat-completions", model_provider_name: "MistralAI" },
    ],
  };

  it("answers with each deployment's model info for a key sent as api-key", async () => {
    const { response, json } = await get("/info", { "api-key": "dev-key" });
    expect(response.status).toBe(200);
    expect(json).toEqual(expected);
  });

  it("accepts the key as Authorization: Bearer", async () => {
    const { response, json } = await get("/info", { authorization: "Bearer dev-key" });
    expect(response.status).toBe(200);
    expect(json).toEqual(expected);
  });

  it.each([
    ["no key", {}],
    ["a wrong api-key", { "api-key": "not-the-key" }],
    ["a wrong bearer token", { authorization: "Bearer dev-key-2" }],
    ["a key in another scheme", { authorization: "Basic dev-key" }],
  ])("answers 401 problem+json for %s", async (_name, headers) => {
    const { response, json } = await get("/info", headers as Record<string, string>);
    expect(response.status).toBe(401);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(response.headers.get("www-authenticate")).toBe('Bearer realm="api"');
    expect(json).toEqual({
      type: "urn:mistral-functions:problem:unauthorized",
      title: "Unauthorized",
      status: 401,
      detail: "Send a valid API key in the api-key header or as Authorization: Bearer <key>.",
      code: "unauthorized",
      request_id: response.headers.get("x-request-id"),
    });
  });
});

describe("routing", () => {
  it("answers 404 for a method a function does not accept and for unknown routes, as Azure does", async () => {
    expect((await fetch(`${api}/health`, { method: "POST" })).status).toBe(404);
    expect((await fetch(`${api}/nothing-here`)).status).toBe(404);
    expect((await fetch(`${inject("hostUrl")}/health`)).status).toBe(404);
  });
});
