import { describe, expect, it } from "vitest";
import { FaultQueue, faultProblems } from "../../../dev/emulator/fault-queue.js";
import { exampleFor } from "../../../dev/emulator/json-example.js";
import { RateLimiter } from "../../../dev/emulator/rate-limiter.js";
import { countPromptTokens, tokenize } from "../../../dev/emulator/tokens.js";

describe("tokenize", () => {
  it("splits into tokens that join back to the text", () => {
    const text = "  Hello, world!\nHow are  you? ";
    const tokens = tokenize(text);
    expect(tokens.join("")).toBe(text);
    expect(tokens).toEqual(["  Hello,", " world!", "\nHow", " are", "  you?", " "]);
    expect(tokenize("")).toEqual([]);
  });

  it("counts prompt tokens over string and part contents", () => {
    expect(countPromptTokens([{ role: "user", content: "a b c" }])).toBe(6);
    expect(countPromptTokens([{ role: "user", content: [{ type: "text", text: "a b" }] }])).toBe(5);
  });
});

describe("RateLimiter", () => {
  it("admits up to the request limit per sliding minute, then says how long to wait", () => {
    let now = 0;
    const limiter = new RateLimiter({ requestsPerMinute: 2, tokensPerMinute: 1_000 }, () => now);
    expect(limiter.admit().ok).toBe(true);
    now = 10_000;
    expect(limiter.admit().ok).toBe(true);
    now = 20_000;
    expect(limiter.admit()).toEqual({ ok: false, retryAfterMs: 40_000 });
    now = 60_001;
    expect(limiter.admit().ok).toBe(true);
  });

  it("refuses once the tokens of the last minute reach the limit", () => {
    let now = 0;
    const limiter = new RateLimiter({ requestsPerMinute: 100, tokensPerMinute: 50 }, () => now);
    const first = limiter.admit();
    if (!first.ok) throw new Error("expected admission");
    limiter.charge(first.spend, 50);
    now = 1;
    expect(limiter.admit().ok).toBe(false);
    now = 60_001;
    expect(limiter.admit().ok).toBe(true);
  });
});

describe("FaultQueue", () => {
  it("hands out matching faults in order, each for its number of times", () => {
    const queue = new FaultQueue();
    queue.add([{ match: { deployment: "a" }, times: 2, status: 500 }, { status: 429 }]);
    expect(queue.take("b", "/chat/completions")?.status).toBe(429);
    expect(queue.take("a", "/chat/completions")?.status).toBe(500);
    expect(queue.take("a", "/chat/completions")?.status).toBe(500);
    expect(queue.take("a", "/chat/completions")).toBeUndefined();
  });

  it("checks fault lists", () => {
    expect(faultProblems({})).toEqual(['body must be {"faults": [...]}']);
    expect(faultProblems({ faults: [{ times: 0, status: 42 }] })).toEqual([
      "faults[0].times must be an integer >= 1",
      "faults[0].status must be an HTTP status",
    ]);
  });
});

describe("exampleFor", () => {
  it("builds a value that satisfies common schema keywords", () => {
    const schema = {
      type: "object",
      properties: {
        name: { type: "string" },
        kind: { enum: ["a", "b"] },
        tags: { type: "array", items: { type: "string" } },
        count: { type: "integer", minimum: 3 },
        ok: { type: "boolean" },
        fixed: { const: 7 },
      },
    };
    expect(exampleFor(schema)).toEqual({ name: "name", kind: "a", tags: ["tags"], count: 3, ok: true, fixed: 7 });
  });
});
