import type { ValidateFunction } from "ajv";
import { HttpProblem } from "../lib/problem.js";
import { outputSchemaValidator } from "./output-schema.js";
import type { ChatRequest } from "./schema.js";

/**
 * The caller's JSON Schema for the answer, checked and compiled before the model is called, so a
 * schema we cannot use is the caller's 400, not a failure after the model has answered.
 */
export function outputValidator(request: ChatRequest): ValidateFunction | undefined {
  const format = request.response_format;
  if (format?.type !== "json_schema") return undefined;
  return outputSchemaValidator(format.json_schema.schema as Record<string, unknown>);
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

const invalidOutput = (detail: string) => new HttpProblem({ status: 502, code: "invalid_model_output", title: "Bad Gateway", detail });
