import { HttpRequest, type HttpResponseInit, InvocationContext } from "@azure/functions";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config/index.js";
import { anonymousHandler, callerHandler } from "../../../src/http/handler.js";
import { ModelError } from "../../../src/lib/model-error.js";
import { HttpProblem } from "../../../src/lib/problem.js";
import { createRuntime, getRuntime, setRuntime } from "../../../src/runtime.js";

const env = {
  MODEL_DEPLOYMENTS: "mistral-large",
  MODEL_MISTRAL_LARGE_ENDPOINT: "http://localhost:1/mistral-large",
  MODEL_MISTRAL_LARGE_MODEL: "Mistral-Large",
  MODEL_MISTRAL_LARGE_KEY: "k",
  CALLER_KEYS: "dev:7e9f8fd111802be56c379d597842e29b2cebd35ff2133d431a49fa556a18704e",
  AzureWebJobsStorage: "UseDevelopmentStorage=true",
};

beforeEach(() => setRuntime(createRuntime(loadConfig(env))));
afterEach(() => setRuntime(undefined));

const request = (headers: Record<string, string> = {}) => new HttpRequest({ url: "http://localhost/api/x", method: "GET", headers });
const context = () => new InvocationContext({ invocationId: "inv-1", functionName: "x" });
const traced = () =>
  new InvocationContext({ invocationId: "inv-2", functionName: "x", traceContext: { traceParent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" } });

describe("anonymousHandler", () => {
  it("adds x-request-id to what the handler answers", async () => {
    const handler = anonymousHandler(getRuntime(), async () => ({ status: 201, headers: { "x-other": "1" }, jsonBody: { ok: true } }));
    const response = <HttpResponseInit>await handler(request(), context());
    expect(response.status).toBe(201);
    expect(response.headers).toEqual({ "x-other": "1", "x-request-id": "inv-1" });
  });

  it("turns a thrown HttpProblem into problem+json with its headers", async () => {
    const handler = anonymousHandler(getRuntime(), async () => {
      throw new HttpProblem({ status: 429, code: "rate_limited", title: "Too Many Requests", detail: "Slow down.", headers: { "retry-after": "3" } });
    });
    const response = <HttpResponseInit>await handler(request(), traced());
    expect(response.status).toBe(429);
    expect(response.headers).toMatchObject({
      "content-type": "application/problem+json",
      "retry-after": "3",
      "x-request-id": "0af7651916cd43dd8448eb211c80319c",
    });
    expect(response.jsonBody).toEqual({
      type: "urn:mistral-functions:problem:rate_limited",
      title: "Too Many Requests",
      status: 429,
      detail: "Slow down.",
      code: "rate_limited",
      request_id: "0af7651916cd43dd8448eb211c80319c",
    });
  });

  it("answers any other error with a 500 that shows nothing of it", async () => {
    const handler = anonymousHandler(getRuntime(), async () => {
      throw new Error("secret connection string in here");
    });
    const response = <HttpResponseInit>await handler(request(), context());
    expect(response.status).toBe(500);
    expect(JSON.stringify(response.jsonBody)).not.toContain("secret");
    expect(response.jsonBody).toMatchObject({ code: "internal_error", request_id: "inv-1" });
  });

  it("logs an error inside the app with its stack, the message made safe; a model failure as a warning; a caller's mistake not at all", async () => {
    const logged: Array<{ level: string; text: string }> = [];
    const logging = () =>
      new InvocationContext({ invocationId: "inv-3", functionName: "x", logHandler: (level, ...args) => logged.push({ level, text: args.join(" ") }) });
    const failing = (error: unknown) =>
      anonymousHandler(getRuntime(), async () => {
        throw error;
      });
    await failing(new TypeError("cannot reach https://secret.example.com/x"))(request(), logging());
    expect(logged).toHaveLength(1);
    expect(logged[0]?.level).toBe("error");
    expect(logged[0]?.text).toContain("TypeError: cannot reach [url]");
    expect(logged[0]?.text).toMatch(/\n\s+at /);
    expect(logged[0]?.text).not.toContain("secret.example.com");
    logged.length = 0;
    await failing(new ModelError({ kind: "upstream", status: 503, code: "service_unavailable", message: "busy" }))(request(), logging());
    expect(logged).toEqual([{ level: "warning", text: "Request failed: 503 upstream_unavailable: busy" }]);
    logged.length = 0;
    await failing(new HttpProblem({ status: 400, code: "invalid_request", detail: "bad" }))(request(), logging());
    expect(logged).toEqual([]);
  });
});

describe("callerHandler", () => {
  it("runs the handler with the caller for a valid key, and never without one", async () => {
    let calls = 0;
    const handler = callerHandler(getRuntime(), async (_req, { caller }) => {
      calls++;
      return { jsonBody: { caller: caller.id } };
    });
    expect((<HttpResponseInit>await handler(request({ "api-key": "dev-key" }), context())).jsonBody).toEqual({ caller: "key:dev" });
    const refused = <HttpResponseInit>await handler(request({ "api-key": "nope" }), context());
    expect(refused.status).toBe(401);
    expect(calls).toBe(1);
  });
});
