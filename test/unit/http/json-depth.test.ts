import { describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH, nestsDeeperThan } from "../../../src/http/read-json-body.js";

describe("nestsDeeperThan", () => {
  it("counts object and array nesting, not brackets inside strings", () => {
    expect(nestsDeeperThan(`${"[".repeat(MAX_JSON_DEPTH)}${"]".repeat(MAX_JSON_DEPTH)}`, MAX_JSON_DEPTH)).toBe(false);
    expect(nestsDeeperThan(`${"[".repeat(MAX_JSON_DEPTH + 1)}${"]".repeat(MAX_JSON_DEPTH + 1)}`, MAX_JSON_DEPTH)).toBe(true);
    expect(nestsDeeperThan('{"a":{"b":[{"c":1}]}}', 3)).toBe(true);
    expect(nestsDeeperThan('{"a":{"b":[{"c":1}]}}', 4)).toBe(false);
    expect(nestsDeeperThan(JSON.stringify({ text: "[".repeat(1_000) }), 2)).toBe(false);
    // An escaped quote does not end the string: the brackets after it are still text.
    expect(nestsDeeperThan(JSON.stringify({ text: `\\"${"{".repeat(100)}` }), 2)).toBe(false);
  });

  it("reads a 20,000-level body in one pass without recursion", () => {
    expect(nestsDeeperThan(`${'{"a":'.repeat(20_000)}1${"}".repeat(20_000)}`, MAX_JSON_DEPTH)).toBe(true);
  });
});
