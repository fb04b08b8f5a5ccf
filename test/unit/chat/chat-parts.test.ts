import { describe, expect, it } from "vitest";
import { toChatResponse } from "../../../src/chat/from-wire.js";
import { outputValidator } from "../../../src/chat/json-output.js";
import type { ChatRequest } from "../../../src/chat/schema.js";
import { toWireRequest } from "../../../src/chat/to-wire.js";
import { ToolCallIds } from "../../../src/chat/tool-call-ids.js";
import { fieldName, validateChatRequest } from "../../../src/chat/validate-request.js";
import type { ChatCompletion } from "../../../src/inference/index.js";
import { HttpProblem } from "../../../src/lib/problem.js";

describe("ToolCallIds", () => {
  it("keeps ids Mistral accepts and maps others to 9 letters and digits, consistently and reversibly", () => {
    const ids = new ToolCallIds();
    expect(ids.forModel("abc0DeFgH")).toBe("abc0DeFgH");
    const mapped = ids.forModel("call_0123456789");
    expect(mapped).toMatch(/^[A-Za-z0-9]{9}$/);
    expect(ids.forModel("call_0123456789")).toBe(mapped);
    expect(ids.forCaller(mapped)).toBe("call_0123456789");
    expect(ids.forCaller("unknown12")).toBe("unknown12");
  });

  it("never gives two caller ids the same model id", () => {
    const ids = new ToolCallIds();
    const seen = new Set(Array.from({ length: 500 }, (_, i) => ids.forModel(`call_${i}`)));
    expect(seen.size).toBe(500);
  });
});

describe("toWireRequest", () => {
  const request: ChatRequest = {
    messages: [
      { role: "user", content: "Hi" },
      { role: "assistant", tool_calls: [{ id: "call_x", type: "function", function: { name: "f", arguments: "{}" } }] },
      { role: "tool", tool_call_id: "call_x", content: "{}" },
    ],
    temperature: 0.2,
    model: "mistral-small",
  };

  it("passes parameters, drops the app's own fields, and fills assistant content", () => {
    const { body, extraParameters } = toWireRequest(request, new ToolCallIds());
    expect(body.temperature).toBe(0.2);
    expect(body).not.toHaveProperty("model");
    expect(body.messages[1]?.content).toBe("");
    expect(body.messages[2]?.tool_call_id).toBe(body.messages[1]?.tool_calls?.[0]?.id);
    expect(extraParameters).toBeUndefined();
  });

  it("turns safe_mode and extra into pass-through fields", () => {
    const { body, extraParameters } = toWireRequest({ ...request, safe_mode: true, extra: { logprobs: true } }, new ToolCallIds());
    expect(body).toMatchObject({ safe_prompt: true, logprobs: true });
    expect(body).not.toHaveProperty("safe_mode");
    expect(extraParameters).toBe("pass-through");
  });
});

describe("validateChatRequest", () => {
  const problem = async (body: unknown) => {
    try {
      await validateChatRequest(body, { maxMessageBytes: 64 * 1024 });
    } catch (error) {
      expect(error).toBeInstanceOf(HttpProblem);
      return error as HttpProblem;
    }
    throw new Error("expected a problem");
  };

  it("names the field and the rule", async () => {
    expect((await problem({ messages: [{ role: "user", content: "x" }], top_p: 2 })).extensions).toEqual({ param: "top_p", rule: "maximum" });
    expect((await problem({ messages: [{ role: "system", content: 5 }] })).detail).toBe("messages[0].content must be string.");
    expect((await problem("text")).status).toBe(400);
  });

  it("writes JSON pointers the way people write fields", () => {
    expect(fieldName("/messages/0/tool_calls/1/function/name")).toBe("messages[0].tool_calls[1].function.name");
    expect(fieldName("")).toBe("");
  });
});

describe("toChatResponse", () => {
  const completion = (content: string, finish = "stop"): ChatCompletion => ({
    id: "c",
    created: 1,
    model: "Mistral-Large",
    choices: [
      {
        index: 0,
        message: { role: "assistant", content, tool_calls: [{ id: "abcdefghi", type: "function", function: { name: "f", arguments: "{}" } }] },
        finish_reason: finish,
      },
    ],
    usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
  });

  it("maps tool-call ids back to the caller's", () => {
    const ids = new ToolCallIds();
    const mapped = ids.forModel("call_original");
    const c = completion("");
    c.choices[0]!.message.tool_calls![0]!.id = mapped;
    const response = toChatResponse(c, "mistral-large", ids, { messages: [] }, undefined);
    expect(response.message.tool_calls?.[0]?.id).toBe("call_original");
    expect(response.model).toBe("mistral-large");
  });

  it("parses JSON answers against the caller's schema", () => {
    const request: ChatRequest = {
      messages: [],
      response_format: { type: "json_schema", json_schema: { name: "n", schema: { type: "object", required: ["a"] } } },
    };
    const validate = outputValidator(request);
    expect(toChatResponse(completion('{"a":1}'), "m", new ToolCallIds(), request, validate).message.parsed).toEqual({ a: 1 });
    expect(() => toChatResponse(completion("{}"), "m", new ToolCallIds(), request, validate)).toThrow("must have required property 'a'");
    expect(toChatResponse(completion("{", "length"), "m", new ToolCallIds(), request, validate).message).not.toHaveProperty("parsed");
  });
});
