import SwaggerParser from "@apidevtools/swagger-parser";
import { Ajv } from "ajv";
import { describe, expect, inject, it } from "vitest";
import { ChatRequest, ChatResponse } from "../../src/chat/schema.js";
import { openApiDocument } from "../../src/openapi/document.js";
import { postJson, seed } from "../support/emulator.js";

/** GET /api/openapi.json: a valid OpenAPI 2.0 document of the app contract, built from its schemas. */
const hostUrl = inject("hostUrl");

async function document(): Promise<any> {
  const response = await fetch(`${hostUrl}/api/openapi.json`);
  expect(response.status).toBe(200);
  return response.json();
}

describe("GET /api/openapi.json", () => {
  it("is a valid OpenAPI 2.0 document, per a well-kept validator", async () => {
    const doc = await document();
    expect(doc.swagger).toBe("2.0");
    await expect(SwaggerParser.validate(structuredClone(doc))).resolves.toBeTruthy();
  });

  it("is the document the unit tests lint and play the designer on", async () => {
    const url = new URL(hostUrl);
    const built = openApiDocument({ host: url.host, scheme: url.protocol === "https:" ? "https" : "http" });
    expect(await document()).toEqual(JSON.parse(JSON.stringify(built)));
  });

  it("describes /ask, /chat, /chat/jobs, /info and /health with operation ids, labels and the api-key security", async () => {
    const doc = await document();
    expect(doc.host).toBe(new URL(hostUrl).host);
    expect(doc.basePath).toBe("/api");
    expect(doc.securityDefinitions).toEqual({ api_key: { type: "apiKey", in: "header", name: "api-key", description: "A caller key." } });
    expect(Object.keys(doc.paths).sort()).toEqual(["/ask", "/chat", "/chat/jobs", "/chat/jobs/{id}", "/health", "/info"]);
    expect(doc.paths["/chat"].post).toMatchObject({ operationId: "Chat", summary: "Chat completion", security: [{ api_key: [] }] });
    expect(doc.paths["/ask"].post).toMatchObject({ operationId: "Ask", security: [{ api_key: [] }] });
    expect(doc.paths["/chat/jobs"].post).toMatchObject({ operationId: "SubmitChatJob", security: [{ api_key: [] }] });
    expect(doc.paths["/chat/jobs"].post.responses[200].schema).toEqual({ $ref: "#/definitions/ChatResponse" });
    expect(Object.keys(doc.paths["/chat/jobs"].post.responses[202].headers)).toEqual(["Location", "Retry-After"]);
    expect(doc.paths["/chat/jobs/{id}"].get.operationId).toBe("GetChatJob");
    expect(doc.paths["/chat/jobs/{id}"].delete.operationId).toBe("CancelChatJob");
    expect(doc.paths["/info"].get.operationId).toBe("GetModelInfo");
    expect(doc.paths["/health"].get).toMatchObject({ "x-ms-visibility": "internal" });
    expect(doc.paths["/health"].get.security).toBeUndefined();
  });

  it("documents exactly the fields the request schema accepts but stream (the routes in it answer JSON), each with a designer label", async () => {
    const { definitions } = await document();
    const properties = definitions.ChatRequest.properties;
    expect(Object.keys(properties).sort()).toEqual(
      Object.keys(ChatRequest.properties)
        .filter((name) => name !== "stream")
        .sort(),
    );
    for (const [name, property] of Object.entries<any>(properties)) expect(property["x-ms-summary"], name).toEqual(expect.any(String));
    expect(properties.temperature).toMatchObject({ type: "number", minimum: 0, maximum: 1 });
    expect(properties.tool_choice.enum).toEqual(["auto", "none", "required"]);
    expect(definitions.ChatRequest.additionalProperties).toBe(false);
    expect(Object.keys(properties.messages.items.properties)).toEqual(["role", "content", "tool_calls", "tool_call_id", "name"]);
  });

  it("documents the answer /api/chat really gives", async () => {
    const { status, json } = await postJson(`${hostUrl}/api/chat`, seed("tools.request"), { "api-key": "dev-key" });
    expect(status, JSON.stringify(json)).toBe(200);
    const validate = new Ajv({ strict: false }).compile(ChatResponse);
    expect(validate(json), JSON.stringify(validate.errors)).toBe(true);
    const { definitions } = await document();
    expect(Object.keys(definitions.ChatResponse.properties).sort()).toEqual(Object.keys(json).sort());
  });

  it("documents the answer /api/ask really gives, asked with the document's own test values (JSON mode with a schema)", async () => {
    const { definitions } = await document();
    const ask = definitions.AskRequest.properties;
    const format = ask.response_format.properties.json_schema.properties;
    const body = {
      prompt: ask.prompt["x-ms-test-value"],
      response_format: { type: "json_schema", json_schema: { name: format.name["x-ms-test-value"], schema: format.schema["x-ms-test-value"] } },
    };
    const { status, json } = await postJson(`${hostUrl}/api/ask`, body, { "api-key": "dev-key" });
    expect(status, JSON.stringify(json)).toBe(200);
    expect(json.parsed).toEqual(expect.any(Object));
    const validate = new Ajv({ strict: false }).compile(definitions.AskResponse);
    expect(validate(json), JSON.stringify(validate.errors)).toBe(true);
    expect(Object.keys(definitions.AskResponse.properties).sort()).toEqual(Object.keys(json).sort());
  });

  it("answers /api/chat with the document's own test messages", async () => {
    const { definitions } = await document();
    const body = { messages: definitions.ChatRequest.properties.messages["x-ms-test-value"] };
    const { status, json } = await postJson(`${hostUrl}/api/chat`, body, { "api-key": "dev-key" });
    expect(status, JSON.stringify(json)).toBe(200);
    const validate = new Ajv({ strict: false }).compile(definitions.ChatResponse);
    expect(validate(json), JSON.stringify(validate.errors)).toBe(true);
  });
});
