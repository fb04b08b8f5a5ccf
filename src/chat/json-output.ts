import type { ValidateFunction } from "ajv";
import { HttpProblem } from "../http/problem.js";
import type { ChatRequest } from "./schema.js";


/**
 * The caller's JSON Schema for the answer, compiled before the model is called, so a schema Ajv
 * cannot use is the caller's 400, not a failure after the model has answered.
 */
export function outputValidator(request: ChatRequest): ValidateFunction | undefined {
  const format = request.response_format;
  if (format?.type !== "json_schema") return undefined;
  try {
    // A fresh Ajv per request: a shared one would keep every caller's schema (and refuse a second
    // schema with the same $id). $schema is dropped: the answer is checked with draft-07 rules.
    const { $schema: _dialect, ...schema } = format.json_schema.schema as Record<string, unknown>;
    const { Ajv } = require("ajv") as typeof import("ajv");
    return new Ajv({ allErrors: false, strict: false, addUsedSchema: false }).compile(schema);
  } catch (error) {
    throw new HttpProblem(400, "invalid_request", "Bad Request", `response_format.json_schema.schema is not a usable JSON Schema: ${(error as Error).message}`, {}, {
      param: "response_format.json_schema.schema",
      rule: "schema",
    });
  }
}

/**
 * The parsed answer of a JSON-mode request that finished normally; a 502 `invalid_model_output`
 * saying why when the text is not JSON or does not match the schema.
 */
export function parseJsonOutput(content: string, validate: ValidateFunction | undefined): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch (error) {
    throw invalidOutput(`The model's answer is not valid JSON (${(error as Error).message}).`);
  }
  if (validate && !validate(parsed)) {
    const problem = validate.errors?.[0];
    throw invalidOutput(`The model's answer does not match the schema: ${problem?.instancePath || "the value"} ${problem?.message ?? "is not valid"}.`);
  }
  return parsed;
}

const invalidOutput = (detail: string) => new HttpProblem(502, "invalid_model_output", "Bad Gateway", detail);
