import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { postJson } from "../support/emulator.js";
import { useOwnApp } from "../support/host.js";

/**
 * Behind a gateway or a custom domain, what names the app to callers (the OpenAPI document's host,
 * basePath and schemes; a job's Location) follows PUBLIC_BASE_URL, never the request's Host header.
 */
const suffix = randomUUID().slice(0, 8);
const app = useOwnApp({
  PUBLIC_BASE_URL: "https://api.contoso.com/ai/mistral",
  JOB_QUEUE: `public-${suffix}`,
  JOB_TABLE: `public${suffix}`,
  JOB_CONTAINER: `public-${suffix}`,
});

describe("PUBLIC_BASE_URL", () => {
  it("is the OpenAPI document's host, basePath and scheme, whatever Host the request carried", async () => {
    const response = await fetch(`${app.host.url}/api/openapi.json`, { headers: { "x-forwarded-host": "evil.example.com" } });
    const document = (await response.json()) as { host: string; basePath: string; schemes: string[] };
    expect({ host: document.host, basePath: document.basePath, schemes: document.schemes }).toEqual({
      host: "api.contoso.com",
      basePath: "/ai/mistral",
      schemes: ["https"],
    });
  });

  it("is where a job's Location points", async () => {
    const accepted = await postJson(`${app.host.url}/api/chat/jobs`, { messages: [{ role: "user", content: "Hi" }] }, { "api-key": "dev-key" });
    expect(accepted.status).toBe(202);
    expect(accepted.response.headers.get("location")).toBe(`https://api.contoso.com/ai/mistral/chat/jobs/${accepted.json.id}`);
  });
});
