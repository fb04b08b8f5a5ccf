import { describe, expect, it } from "vitest";
import { useOwnApp } from "../support/host.js";

/** Who may call, over real HTTP through the local host: keys, the platform's principal, CORS. */
const OID = "4f1c8e0a-2b3d-4e5f-8a9b-0c1d2e3f4a5b";
const principal = Buffer.from(
  JSON.stringify({ auth_typ: "aad", claims: [{ typ: "http://schemas.microsoft.com/identity/claims/objectidentifier", val: OID }] }),
).toString("base64");
const chatBody = JSON.stringify({ messages: [{ role: "user", content: "Hello" }], max_tokens: 5 });
const ORIGIN = "https://frontend.example.com";

async function chat(url: string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${url}/api/chat/completions`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: chatBody });
}

describe("access with platform authentication off", () => {
  const app = useOwnApp({ CORS_ALLOWED_ORIGINS: ORIGIN });

  it("lets keys in through api-key and Authorization: Bearer, and refuses wrong and missing keys", async () => {
    expect((await chat(app.host.url, { "api-key": "dev-key" })).status).toBe(200);
    expect((await chat(app.host.url, { authorization: "Bearer dev-key" })).status).toBe(200);
    const wrong: Record<string, string>[] = [{ "api-key": "dev-key-nope" }, { authorization: "Bearer nope" }, {}];
    for (const headers of wrong) {
      const response = await chat(app.host.url, headers);
      expect(response.status).toBe(401);
      expect((await response.json()) as unknown).toMatchObject({ error: { code: "unauthorized" } });
    }
    expect(app.emulator.emulator.log.entries().filter((e) => e.path.endsWith("/chat/completions"))).toHaveLength(2);
  });

  it("ignores a forged x-ms-client-principal", async () => {
    const response = await chat(app.host.url, { "x-ms-client-principal": principal });
    expect(response.status).toBe(401);
    expect(app.emulator.emulator.log.entries()).toHaveLength(0);
  });

  it("answers a preflight from the allowed origin and refuses another", async () => {
    const ask = (origin: string) =>
      fetch(`${app.host.url}/api/chat/completions`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type, api-key" },
      });
    const allowed = await ask(ORIGIN);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(allowed.headers.get("access-control-allow-headers")).toBe("content-type, api-key");
    const refused = await ask("https://elsewhere.example.com");
    expect(refused.status).toBe(403);
    expect(refused.headers.get("access-control-allow-origin")).toBeNull();
    const answered = await chat(app.host.url, { "api-key": "dev-key", origin: ORIGIN });
    expect(answered.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(answered.headers.get("access-control-expose-headers")).toContain("x-request-id");
  });

  it("lets any origin read the OpenAPI document (the portal's connector wizard), never with credentials", async () => {
    const portal = "https://portal.azure.com";
    const preflight = await fetch(`${app.host.url}/api/openapi.json`, {
      method: "OPTIONS",
      headers: { origin: portal, "access-control-request-method": "GET" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
    expect(preflight.headers.get("access-control-allow-credentials")).toBeNull();
    const document = await fetch(`${app.host.url}/api/openapi.json`, { headers: { origin: portal } });
    expect(document.status).toBe(200);
    expect(document.headers.get("access-control-allow-origin")).toBe("*");
    expect(((await document.json()) as { swagger: string }).swagger).toBe("2.0");
    // The API itself still answers only the origins CORS_ALLOWED_ORIGINS names.
    const api = await fetch(`${app.host.url}/api/chat/completions`, {
      method: "OPTIONS",
      headers: { origin: portal, "access-control-request-method": "POST" },
    });
    expect(api.status).toBe(403);
  });
});

describe("access with platform authentication on", () => {
  const app = useOwnApp({ WEBSITE_AUTH_ENABLED: "True" });

  it("trusts the principal the platform sets, and still refuses requests with neither", async () => {
    const signedIn = await chat(app.host.url, { "x-ms-client-principal": principal, "x-ms-client-principal-id": OID });
    expect(signedIn.status).toBe(200);
    expect((await chat(app.host.url, {})).status).toBe(401);
    expect((await fetch(`${app.host.url}/api/health`)).status).toBe(200);
  });
});
