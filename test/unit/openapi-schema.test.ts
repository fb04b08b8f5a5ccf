import { Type } from "@sinclair/typebox";
import { describe, expect, it } from "vitest";
import { summary, toSwaggerSchema } from "../../src/openapi/swagger-schema.js";

const convert = (schema: unknown) => toSwaggerSchema(JSON.parse(JSON.stringify(schema)));

describe("toSwaggerSchema", () => {
  it("turns constants and unions of constants into enums", () => {
    expect(convert(Type.Literal("function"))).toEqual({ type: "string", enum: ["function"] });
    expect(convert(Type.Union([Type.Literal("a"), Type.Literal("b")]))).toEqual({ type: "string", enum: ["a", "b"] });
  });

  it("marks nullable unions with x-nullable and describes forms 2.0 cannot express", () => {
    expect(convert(Type.Union([Type.String(), Type.Null()]))).toEqual({ type: "string", "x-nullable": true });
    expect(convert(Type.Union([Type.String(), Type.Array(Type.String())], { description: "Stop." }))).toEqual({
      type: "string",
      description: "Stop. Also accepted: an array.",
    });
  });

  it("describes an array form with its limit", () => {
    expect(convert(Type.Union([Type.String(), Type.Array(Type.String(), { maxItems: 4 })]))).toEqual({
      type: "string",
      description: "Also accepted: an array of at most 4.",
    });
  });

  it("makes objects told apart by a constant type one object, its type an enum, each other field saying its type", () => {
    const format = Type.Union([
      Type.Object({ type: Type.Literal("text") }, { additionalProperties: false }),
      Type.Object({ type: Type.Literal("json_schema"), json_schema: Type.Object({ schema: Type.Object({}) }) }, { additionalProperties: false }),
    ]);
    expect(convert(format)).toEqual({
      type: "object",
      properties: {
        type: { "x-ms-summary": "Type", type: "string", enum: ["text", "json_schema"] },
        json_schema: {
          "x-ms-summary": "JSON Schema",
          type: "object",
          description: 'Only with type "json_schema".',
          properties: { schema: { "x-ms-summary": "Schema", type: "object" } },
          required: ["schema"],
        },
      },
      required: ["type"],
      additionalProperties: false,
    });
    expect(convert(Type.Union([format.anyOf[0], Type.Null()]))).toMatchObject({ type: "object", "x-nullable": true });
  });

  it("labels in title case, with ID and JSON in capitals", () => {
    expect(summary("tool_call_id")).toBe("Tool Call ID");
    expect(summary("json_schema")).toBe("JSON Schema");
    expect(summary("top_p")).toBe("Top P");
    expect(summary("anything", { title: "Own title" })).toBe("Own title");
  });

  it("labels properties, keeps required and ranges, and turns records into additionalProperties", () => {
    const out = convert(
      Type.Object(
        { max_tokens: Type.Integer({ minimum: 1 }), extra: Type.Optional(Type.Record(Type.String(), Type.Unknown())) },
        { additionalProperties: false },
      ),
    );
    expect(out).toEqual({
      type: "object",
      properties: {
        max_tokens: { "x-ms-summary": "Max Tokens", type: "integer", minimum: 1 },
        extra: { "x-ms-summary": "Extra", type: "object", additionalProperties: {} },
      },
      required: ["max_tokens"],
      additionalProperties: false,
    });
  });
});
