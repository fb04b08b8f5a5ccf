import { describe, expect, it } from "vitest";
import { estimatePromptTokens, estimateTextTokens, MESSAGE_OVERHEAD_TOKENS } from "../../../src/quotas/estimate-tokens.js";

describe("estimateTextTokens", () => {
  it("counts four ASCII characters a token, rounded up", () => {
    expect(estimateTextTokens("")).toBe(0);
    expect(estimateTextTokens("a")).toBe(1);
    expect(estimateTextTokens("abcd")).toBe(1);
    expect(estimateTextTokens("abcde")).toBe(2);
    expect(estimateTextTokens("x".repeat(4000))).toBe(1000);
  });

  it("counts each non-ASCII code point as a token, an astral one once", () => {
    expect(estimateTextTokens("世界你好")).toBe(4);
    expect(estimateTextTokens("😀")).toBe(1);
    expect(estimateTextTokens("café")).toBe(1 + 1);
  });
});

describe("estimatePromptTokens", () => {
  it("adds every message's strings and its overhead", () => {
    const messages = [
      { role: "system", content: "abcd".repeat(10) },
      { role: "user", content: "abcd".repeat(5) },
    ];
    // "system" 2, 10 tokens; "user" 1, 5 tokens.
    expect(estimatePromptTokens(messages)).toBe(2 * MESSAGE_OVERHEAD_TOKENS + 2 + 10 + 1 + 5);
  });

  it("counts tool calls' names and arguments, and content given as parts", () => {
    const withCall = [{ role: "assistant", content: null, tool_calls: [{ id: "abc", type: "function", function: { name: "abcd", arguments: "{}" } }] }];
    const withoutCall = [{ role: "assistant", content: null }];
    // "abc", "function", "abcd", "{}".
    expect(estimatePromptTokens(withCall) - estimatePromptTokens(withoutCall)).toBe(1 + 2 + 1 + 1);
    const parts = [{ role: "user", content: [{ type: "text", text: "abcd".repeat(25) }] }];
    // "user", "text", then the text.
    expect(estimatePromptTokens(parts)).toBe(MESSAGE_OVERHEAD_TOKENS + 1 + 1 + 25);
  });

  it("adds the tool definitions as the JSON the model reads", () => {
    const messages = [{ role: "user", content: "hi" }];
    const tools = [{ type: "function", function: { name: "get_flight_info", parameters: { type: "object" } } }];
    expect(estimatePromptTokens(messages, tools) - estimatePromptTokens(messages)).toBe(Math.ceil(JSON.stringify(tools).length / 4));
    expect(estimatePromptTokens(messages, [])).toBe(estimatePromptTokens(messages));
  });

  it("survives nesting far deeper than the stack and arrays wider than the argument limit", () => {
    let deep: unknown = "abcd";
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(estimatePromptTokens([deep])).toBe(MESSAGE_OVERHEAD_TOKENS + 1);
    const wide = new Array<string>(300_000).fill("a");
    expect(estimatePromptTokens([{ content: wide }])).toBe(MESSAGE_OVERHEAD_TOKENS + 300_000);
  });
});
