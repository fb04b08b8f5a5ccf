import { describe, expect, it } from "vitest";
import { OUTPUT_SCHEMA_LIMITS, outputSchemaValidator } from "../../../src/chat/output-schema.js";
import { HttpProblem } from "../../../src/lib/problem.js";

/** The problem a schema is refused with (fails the test when it is accepted). */
function refusal(schema: Record<string, unknown>): HttpProblem {
  try {
    outputSchemaValidator(schema);
  } catch (error) {
    expect(error).toBeInstanceOf(HttpProblem);
    return error as HttpProblem;
  }
  throw new Error("the schema was accepted");
}

describe("caller output schemas", () => {
  it("accepts the structured-output subset and checks answers with it", () => {
    const validate = outputSchemaValidator({
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      $defs: { city: { type: "string", minLength: 1, pattern: "^[A-Z][a-z]+$" } },
      properties: {
        from: { $ref: "#/$defs/city" },
        to: { $ref: "#/$defs/city" },
        when: { type: "string", format: "date" },
        seats: { type: "integer", minimum: 1 },
      },
      required: ["from", "to"],
      additionalProperties: false,
    });
    expect(validate({ from: "Paris", to: "Lyon", when: "2026-11-29", seats: 2 })).toBe(true);
    expect(validate({ from: "paris", to: "Lyon" })).toBe(false);
    expect(validate({ from: "Paris", to: "Lyon", when: "tomorrow" })).toBe(false);
    expect(validate({ from: "Paris" })).toBe(false);
  });

  it.each([
    ["$async", { $async: true, type: "object" }],
    ["if", { if: { type: "string" }, then: { minLength: 1 } }],
    ["$id", { type: "object", properties: { a: { $id: "https://example.com/s", type: "string" } } }],
    ["$dynamicRef", { $dynamicRef: "#x" }],
  ])("refuses the %s keyword, naming it", (keyword, schema) => {
    const problem = refusal(schema);
    expect(problem.status).toBe(400);
    expect(problem.extensions.keyword).toBe(keyword);
    expect(problem.detail).toContain(keyword);
  });

  it("refuses $data, remote and non-local references, and unknown formats (a newline in one included)", () => {
    expect(refusal({ type: "number", maximum: { $data: "1/x" } }).extensions.keyword).toBe("$data");
    expect(refusal({ $ref: "https://example.com/schema.json" }).detail).toContain("$ref");
    expect(refusal({ properties: { a: { $ref: "#/properties/b" } } }).detail).toContain("$ref");
    const format = refusal({ type: "string", format: "x\n[error] forged" });
    expect(format.detail).toContain("format must be one of");
    expect(format.detail).not.toContain("forged");
  });

  it("runs patterns on a linear-time engine, and refuses what it cannot run", () => {
    const validate = outputSchemaValidator({ type: "string", pattern: "^(a+)+$" });
    // On a backtracking engine this input takes longer than the universe has; here it is one pass.
    expect(validate(`${"a".repeat(50_000)}b`)).toBe(false);
    expect(validate("aaaa")).toBe(true);
    expect(refusal({ type: "string", pattern: "(?=a)a" }).detail).toContain("lookaround");
    expect(refusal({ type: "string", pattern: "(a)\\1" }).detail).toContain("backreferences");
    expect(refusal({ patternProperties: { "(?<=x)y": { type: "string" } } }).detail).toContain("lookaround");
    // Refused before RE2 compiles it: expanding these repeats would cost seconds and hundreds of MB.
    expect(refusal({ type: "string", pattern: ".{1,1000}".repeat(40) }).detail).toContain("counted repeats");
    expect(refusal({ type: "string", pattern: "a".repeat(257) }).detail).toContain("at most 256 characters");
  });

  it("bounds size, depth, references, subschemas and patterns", () => {
    expect(refusal({ description: "x".repeat(OUTPUT_SCHEMA_LIMITS.maxBytes) }).detail).toContain(`larger than ${OUTPUT_SCHEMA_LIMITS.maxBytes} bytes`);
    let deep: Record<string, unknown> = { type: "string" };
    for (let i = 0; i <= OUTPUT_SCHEMA_LIMITS.maxDepth; i++) deep = { type: "array", items: deep };
    expect(refusal(deep).detail).toContain("nests deeper");
    const refs = Object.fromEntries(Array.from({ length: OUTPUT_SCHEMA_LIMITS.maxRefs + 1 }, (_, i) => [`p${i}`, { $ref: "#/$defs/d" }]));
    expect(refusal({ $defs: { d: { type: "string" } }, properties: refs }).detail).toContain("uses $ref more than");
    const props = Object.fromEntries(Array.from({ length: OUTPUT_SCHEMA_LIMITS.maxSubschemas }, (_, i) => [`p${i}`, { type: "string" }]));
    expect(refusal({ properties: props }).detail).toContain("subschemas in all");
    const patterns = Object.fromEntries(
      Array.from({ length: OUTPUT_SCHEMA_LIMITS.maxPatterns + 1 }, (_, i) => [`p${i}`, { type: "string", pattern: `^${i}$` }]),
    );
    expect(refusal({ properties: patterns }).detail).toContain("regular expressions");
  });

  it("compiles a schema once, however often it is sent", () => {
    const schema = () => ({ type: "object", properties: { n: { type: "integer" } }, title: "once" });
    expect(outputSchemaValidator(schema())).toBe(outputSchemaValidator(schema()));
  });
});
