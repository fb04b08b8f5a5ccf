import type { Static } from "@sinclair/typebox";
import { Ajv } from "ajv";
import { describe, expect, expectTypeOf, it } from "vitest";
import { chatToAsk } from "../../src/chat/ask.js";
import type { ChatResponse } from "../../src/chat/from-wire.js";
import { openApiDocument } from "../../src/openapi/document.js";
import type { ToolStep as DocumentedStep } from "../../src/openapi/shapes.js";
import type { ToolStep } from "../../src/tools/tool-session.js";

/**
 * The answers the document shows are the answers the code gives: Ask's (which has no schema of its own in
 * src/chat), and the chat answer with its typed steps and parsed JSON. Ajv ignores the x-ms-* annotations.
 */
const doc = openApiDocument({ host: "localhost", scheme: "http" }) as any;
const validator = (name: string) => new Ajv({ strict: false }).compile(doc.definitions[name]);

const step: ToolStep = { tool_call: { id: "call1", name: "get_flight_info", arguments: '{"from":"MIA"}' }, result: { flight: "MA6" } };
const answer: ChatResponse = {
  id: "chat-1",
  model: "mistral-small",
  created: 1_700_000_000,
  message: { role: "assistant", content: '{"answer":"7000"}', parsed: { answer: "7000" } },
  finish_reason: "stop",
  usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
  steps: [step, { tool_call: { id: "call2", name: "get_flight_info", arguments: "{}" }, error: "Invalid arguments." }],
};

describe("the answers in the OpenAPI document", () => {
  it("documents a chat answer with its server-run steps and parsed JSON", () => {
    const validate = validator("ChatResponse");
    expect(validate(answer), JSON.stringify(validate.errors)).toBe(true);
    expect(Object.keys(doc.definitions.ChatResponse.properties).sort()).toEqual(Object.keys(answer).sort());
    expect(Object.keys(doc.definitions.ChatResponse.properties.steps.items.properties).sort()).toEqual(["error", "result", "tool_call"]);
    expectTypeOf<Static<typeof DocumentedStep>>().toEqualTypeOf<ToolStep>();
  });

  it("documents exactly the answer Ask gives", () => {
    const asked = chatToAsk({ messages: [{ role: "user", content: "How many languages are there?" }] }, answer);
    const validate = validator("AskResponse");
    expect(validate(asked), JSON.stringify(validate.errors)).toBe(true);
    expect(Object.keys(doc.definitions.AskResponse.properties).sort()).toEqual(Object.keys(asked).sort());
    expect(doc.definitions.AskResponse.properties.parsed.type).toBe("object");
  });

  it("shows the Ask request's fields, and the chat request's but stream", async () => {
    const { AskRequest } = await import("../../src/chat/ask-schema.js");
    const { ChatRequest } = await import("../../src/chat/schema.js");
    expect(Object.keys(doc.definitions.AskRequest.properties)).toEqual(Object.keys(AskRequest.properties));
    expect(Object.keys(doc.definitions.ChatRequest.properties).sort()).toEqual(
      Object.keys(ChatRequest.properties)
        .filter((name) => name !== "stream")
        .sort(),
    );
  });
});
