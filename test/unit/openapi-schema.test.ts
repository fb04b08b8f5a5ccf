import { Type } from "@sinclair/typebox";
import { describe, expect, it } from "vitest";
import { toSwaggerSchema } from "../../src/openapi/swagger-schema.js";

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
        max_tokens: { "x-ms-summary": "Max tokens", type: "integer", minimum: 1 },
        extra: { "x-ms-summary": "Extra", type: "object", additionalProperties: {} },
      },
      required: ["max_tokens"],
      additionalProperties: false,
    });
  });
});
