import { HttpRequest, type HttpResponseInit, InvocationContext } from "@azure/functions";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../../src/config/index.js";
import { callerHandler } from "../../../src/http/handler.js";
import { createRuntime, getRuntime, setRuntime } from "../../../src/runtime.js";

const env = {
  MODEL_DEPLOYMENTS: "m",
  MODEL_M_ENDPOINT: "http://localhost:1/m",
  MODEL_M_MODEL: "M",
  MODEL_M_KEY: "k",
  CALLER_KEYS: "dev:7e9f8fd111802be56c379d597842e29b2cebd35ff2133d431a49fa556a18704e",
  AzureWebJobsStorage: "UseDevelopmentStorage=true",
};
const use = (extra: Record<string, string>) => setRuntime(createRuntime(loadConfig({ ...env, ...extra })));
afterEach(() => setRuntime(undefined));

// Made per call: each test sets the runtime (and its CORS settings) first.
const handler = () => callerHandler(getRuntime(), async () => ({ status: 200, jsonBody: { ok: true } }), { methods: ["POST"] });
const call = async (method: string, headers: Record<string, string>) =>
  <HttpResponseInit & { headers: Record<string, string> }>(
    await handler()(new HttpRequest({ url: "http://localhost/api/chat", method, headers }), new InvocationContext({ invocationId: "i" }))
  );
const preflight = (origin: string, method = "POST") =>
  call("OPTIONS", { origin, "access-control-request-method": method, "access-control-request-headers": "content-type,api-key,x-stainless-os" });

describe("CORS", () => {
  it("answers a preflight from an allowed origin before any key is checked", async () => {
    use({ CORS_ALLOWED_ORIGINS: "https://app.example.com, http://localhost:5173" });
    const response = await preflight("https://app.example.com");
    expect(response.status).toBe(204);
    expect(response.headers).toMatchObject({
      "access-control-allow-origin": "https://app.example.com",
      "access-control-allow-methods": "POST",
      "access-control-allow-headers": "content-type,api-key,x-stainless-os",
      vary: "Origin",
    });
    expect(response.headers["access-control-allow-credentials"]).toBeUndefined();
  });

  it("refuses a preflight from another origin or for another method, with no CORS headers", async () => {
    use({ CORS_ALLOWED_ORIGINS: "https://app.example.com" });
    for (const response of [await preflight("https://evil.example.com"), await preflight("https://app.example.com", "DELETE")]) {
      expect(response.status).toBe(403);
      expect(Object.keys(response.headers).filter((h) => h.startsWith("access-control-"))).toEqual([]);
    }
    // No origins configured: no browser may call.
    use({});
    expect((await preflight("https://app.example.com")).status).toBe(403);
  });

  it("labels actual answers (errors too) for allowed origins only, exposing our headers", async () => {
    use({ CORS_ALLOWED_ORIGINS: "https://app.example.com", CORS_ALLOW_CREDENTIALS: "true" });
    const refused = await call("POST", { origin: "https://app.example.com" });
    expect(refused.status).toBe(401);
    expect(refused.headers).toMatchObject({
      "access-control-allow-origin": "https://app.example.com",
      "access-control-allow-credentials": "true",
      "access-control-expose-headers": expect.stringContaining("x-request-id"),
    });
    const other = await call("POST", { origin: "https://evil.example.com" });
    expect(other.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("refuses * (with credentials or without) and anything that is not an origin", async () => {
    expect(() => loadConfig({ ...env, CORS_ALLOWED_ORIGINS: "*" })).toThrow(/CORS_ALLOWED_ORIGINS may not be \*/);
    expect(() => loadConfig({ ...env, CORS_ALLOWED_ORIGINS: "*", CORS_ALLOW_CREDENTIALS: "true" })).toThrow(ConfigError);
    expect(() => loadConfig({ ...env, CORS_ALLOWED_ORIGINS: "https://app.example.com,*" })).toThrow(/may not be \*/);
    expect(() => loadConfig({ ...env, CORS_ALLOWED_ORIGINS: "https://app.example.com/path" })).toThrow(/not an origin/);
  });
});
