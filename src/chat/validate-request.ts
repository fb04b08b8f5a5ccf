import type { ErrorObject, ValidateFunction } from "ajv";
import { HttpProblem } from "../lib/problem.js";
import type { ChatMessage, ChatRequest } from "./schema.js";

export const MAX_MESSAGES = 256;

interface Validators {
  request: ValidateFunction<ChatRequest>;
  message: Record<ChatMessage["role"], ValidateFunction<ChatMessage>>;
  /** Fields `extra` may not carry: they have a checked place of their own, or belong to the app. */
  notExtra: Set<string>;
}

let validators: Promise<Validators> | undefined;
let ajv: import("ajv").Ajv | undefined;

/** The one Ajv of the contract's schemas (the chat request's, Ask's), made when the first needs it. */
export function contractAjv(): import("ajv").Ajv {
  const { Ajv } = require("ajv") as typeof import("ajv");
  ajv ??= new Ajv({ allErrors: false, strict: false });
  return ajv;
}

/**
 * The schemas are built and compiled with the first request rather than at start-up, which loading
 * TypeBox and Ajv and compiling would slow by a quarter of a second.
 */
function compiled(): Promise<Validators> {
  validators ??= import("./schema.js").then(({ ChatRequest: ChatRequestSchema, MessageByRole }) => {
    const ajv = contractAjv();
    return {
      request: ajv.compile<ChatRequest>(ChatRequestSchema),
      message: Object.fromEntries(Object.entries(MessageByRole).map(([role, schema]) => [role, ajv.compile<ChatMessage>(schema)])) as Validators["message"],
      notExtra: new Set([...Object.keys(ChatRequestSchema.properties), "stream_options", "safe_prompt", "n"]),
    };
  });
  return validators;
}

/**
 * Checks an app-contract request before anything reaches the model: sizes first (413), then the
 * schema and the rules between fields (400 naming the field and the rule).
 */
export async function validateChatRequest(body: unknown, limits: { maxMessageBytes: number }): Promise<ChatRequest> {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw invalid("", "type", "The request body must be a JSON object.");
  checkSizes(body as { messages?: unknown }, limits.maxMessageBytes);
  const { request: validateRequest, message: validateMessage, notExtra } = await compiled();
  if (!validateRequest(body)) throw fromAjv(validateRequest.errors?.[0]);
  const request = body;
  request.messages.forEach((message, index) => {
    const check = validateMessage[message.role];
    if (!check(message)) throw fromAjv(check.errors?.[0], `/messages/${index}`);
  });
  checkToolReferences(request);
  for (const key of Object.keys(request.extra ?? {})) {
    if (notExtra.has(key)) throw invalid(`/extra/${key}`, "reserved", `extra.${key} is not allowed: ${key} is set by the request itself.`);
  }
  return request;
}

function checkSizes(body: { messages?: unknown }, maxMessageBytes: number): void {
  if (!Array.isArray(body.messages)) return;
  if (body.messages.length > MAX_MESSAGES) {
    throw tooLarge("messages", `At most ${MAX_MESSAGES} messages are accepted; this request has ${body.messages.length}.`);
  }
  body.messages.forEach((message, index) => {
    if (Buffer.byteLength(JSON.stringify(message) ?? "") > maxMessageBytes) {
      throw tooLarge(`messages[${index}]`, `messages[${index}] is larger than ${maxMessageBytes} bytes.`);
    }
  });
}

/** A named tool_choice must name a tool; a tool message must answer a tool call made before it. */
function checkToolReferences(request: ChatRequest): void {
  const choice = request.tool_choice;
  const offered = [...(request.tools ?? []).map((tool) => tool.function.name), ...(request.server_tools ?? [])];
  if (choice && typeof choice === "object" && !offered.includes(choice.function.name)) {
    throw invalid("/tool_choice/function/name", "tool", `tool_choice names ${choice.function.name}, which is not in tools.`);
  }
  if (request.tools && request.server_tools) {
    throw invalid("/server_tools", "exclusive", "Send tools (run by the caller) or server_tools (run by the server), not both.");
  }
  if (typeof choice === "string" && choice !== "none" && choice !== "auto" && !request.tools && !request.server_tools) {
    throw invalid("/tool_choice", "tool", "tool_choice required needs tools.");
  }
  const called = new Set<string>();
  request.messages.forEach((message, index) => {
    if (message.role === "assistant") for (const call of message.tool_calls ?? []) called.add(call.id);
    if (message.role === "tool" && !called.has(message.tool_call_id)) {
      throw invalid(`/messages/${index}/tool_call_id`, "tool_call", `messages[${index}].tool_call_id answers no tool call of an earlier assistant message.`);
    }
  });
}

/** `/messages/0/content` -> `messages[0].content`, the way people write a field. */
export function fieldName(pointer: string): string {
  return pointer
    .split("/")
    .filter((part) => part !== "")
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((name, part) => (/^\d+$/.test(part) ? `${name}[${part}]` : name ? `${name}.${part}` : part), "");
}

/** The first schema error as the 400 that names its field and rule. */
export function fromAjv(error: ErrorObject | undefined, prefix = ""): HttpProblem {
  if (!error) return invalid(prefix, "schema", "The request does not match the contract.");
  const pointer = `${prefix}${error.instancePath}`;
  if (error.keyword === "additionalProperties") {
    const extra = String((error.params as { additionalProperty: string }).additionalProperty);
    const where = fieldName(pointer);
    return invalid(`${pointer}/${extra}`, "unknown_field", `${where ? `${where}.` : ""}${extra} is not a field of this request.`);
  }
  if (error.keyword === "required") {
    const missing = String((error.params as { missingProperty: string }).missingProperty);
    return invalid(`${pointer}/${missing}`, "required", `${fieldName(`${pointer}/${missing}`)} is required.`);
  }
  const field = fieldName(pointer) || "body";
  const message = error.keyword === "anyOf" ? "does not match any of the accepted forms" : (error.message ?? "is not valid");
  return invalid(pointer, error.keyword, `${field} ${message}.`);
}

function invalid(pointer: string, rule: string, detail: string): HttpProblem {
  return new HttpProblem({ status: 400, code: "invalid_request", title: "Bad Request", detail, extensions: { param: fieldName(pointer) || null, rule } });
}

function tooLarge(param: string, detail: string): HttpProblem {
  return new HttpProblem({ status: 413, code: "payload_too_large", title: "Payload Too Large", detail, extensions: { param } });
}
