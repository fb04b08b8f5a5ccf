import { type WireError, wireError } from "./wire-errors.js";

export type ExtraParametersMode = "error" | "drop" | "pass-through";
export type ToolChoice = "auto" | "none" | "required" | { name: string };

export interface ToolDefinition {
  name: string;
  description?: string;
  parameters?: Record<string, unknown>;
}

export interface RequestMessage {
  role: "system" | "developer" | "user" | "assistant" | "tool";
  content?: unknown;
  tool_calls?: Array<{ id: string; type: string; function: { name: string; arguments: string } }> | null;
  tool_call_id?: string;
  [field: string]: unknown;
}

export interface ChatRequest {
  messages: RequestMessage[];
  model?: string;
  stream: boolean;
  maxTokens?: number;
  responseFormat: { type: "text" | "json_object" | "json_schema"; schema?: Record<string, unknown> };
  tools: ToolDefinition[];
  toolChoice: ToolChoice;
  stop: string[];
  /** Fields the API does not define that reached the model (`extra-parameters: pass-through`). */
  extras: Record<string, unknown>;
}

/** The body fields of the Azure AI Model Inference chat completions API. */
const KNOWN_FIELDS = new Set([
  "messages",
  "model",
  "stream",
  "frequency_penalty",
  "presence_penalty",
  "temperature",
  "top_p",
  "max_tokens",
  "response_format",
  "stop",
  "tools",
  "tool_choice",
  "seed",
  "modalities",
]);
const ROLES = new Set(["system", "developer", "user", "assistant", "tool"]);
/** Mistral accepts only these tool-call ids. */
const MISTRAL_TOOL_CALL_ID = /^[A-Za-z0-9]{9}$/;

export function parseExtraParametersHeader(value: string | undefined): ExtraParametersMode | WireError {
  if (value === undefined || value === "") return "error";
  if (value === "error" || value === "drop" || value === "pass-through") return value;
  return wireError(400, "invalid_extra_parameters", `Unexpected extra-parameters option ${value}, expected options are ['error', 'drop', 'pass-through']`);
}

/** Validates a chat completions body as the service does; the first broken rule is the answer. */
export function validateChatRequest(body: unknown, mode: ExtraParametersMode): ChatRequest | WireError {
  if (!body || typeof body !== "object" || Array.isArray(body)) {
    return invalid("The request body must be a JSON object.", null);
  }
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((key) => !KNOWN_FIELDS.has(key));
  if (unknown.length > 0 && mode === "error") {
    return wireError(
      400,
      "extra_parameters_not_allowed",
      `Extra parameters [${unknown.map((k) => `'${k}'`).join(", ")}] are not allowed when extra-parameters is not set or set to be 'error'. Set extra-parameters to 'pass-through' to pass to the model.`,
      unknown[0] ?? null,
    );
  }
  const extras = mode === "pass-through" ? Object.fromEntries(unknown.map((k) => [k, fields[k]])) : {};

  const messages = checkMessages(fields.messages);
  if (!Array.isArray(messages)) return messages;
  for (const [name, min, max] of [
    ["temperature", 0, 1],
    ["top_p", 0, 1],
    ["presence_penalty", -2, 2],
    ["frequency_penalty", -2, 2],
  ] as const) {
    const problem = checkNumber(fields[name], name, min, max);
    if (problem) return problem;
  }
  const maxTokens = numberish(fields.max_tokens);
  if (fields.max_tokens !== undefined && fields.max_tokens !== null && !(Number.isInteger(maxTokens) && (maxTokens as number) >= 0)) {
    return invalid("max_tokens must be an integer >= 0.", "max_tokens");
  }
  const seed = numberish(fields.seed);
  if (fields.seed !== undefined && fields.seed !== null && !Number.isInteger(seed)) {
    return invalid("seed must be an integer.", "seed");
  }
  if (fields.stream !== undefined && fields.stream !== null && typeof fields.stream !== "boolean") {
    return invalid("stream must be a boolean.", "stream");
  }
  const stop = fields.stop;
  if (stop !== undefined && stop !== null && typeof stop !== "string" && !(Array.isArray(stop) && stop.every((s) => typeof s === "string"))) {
    return invalid("stop must be a string or an array of strings.", "stop");
  }
  if (fields.model !== undefined && fields.model !== null && typeof fields.model !== "string") {
    return invalid("model must be a string.", "model");
  }
  const responseFormat = checkResponseFormat(fields.response_format);
  if ("status" in responseFormat) return responseFormat;
  const tools = checkTools(fields.tools);
  if (!Array.isArray(tools)) return tools;
  const toolChoice = checkToolChoice(fields.tool_choice, tools);
  if (typeof toolChoice === "object" && "status" in toolChoice) return toolChoice;

  return {
    messages,
    model: typeof fields.model === "string" ? fields.model : undefined,
    stream: fields.stream === true,
    maxTokens: maxTokens === undefined ? undefined : (maxTokens as number),
    responseFormat,
    tools,
    toolChoice,
    stop: typeof stop === "string" ? [stop] : Array.isArray(stop) ? (stop as string[]) : [],
    extras,
  };
}

function invalid(message: string, param: string | null): WireError {
  return wireError(422, "invalid_request", message, param);
}

/** Numbers, or numeric strings (the service coerces "0.1", as the seed's Python sample sends). */
function numberish(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "string" && value.trim() !== "" && !Number.isNaN(Number(value))) return Number(value);
  return value === undefined || value === null ? undefined : Number.NaN;
}

function checkNumber(value: unknown, name: string, min: number, max: number): WireError | undefined {
  if (value === undefined || value === null) return undefined;
  const n = numberish(value);
  if (n === undefined || Number.isNaN(n) || n < min || n > max) {
    return invalid(`${name} must be a number from ${min} to ${max}.`, name);
  }
  return undefined;
}

function checkMessages(value: unknown): RequestMessage[] | WireError {
  if (!Array.isArray(value) || value.length === 0) {
    return invalid("messages must be a non-empty array.", "messages");
  }
  const toolCallIds = new Set<string>();
  for (const [i, message] of value.entries()) {
    if (!message || typeof message !== "object" || !ROLES.has((message as RequestMessage).role)) {
      return invalid(`messages[${i}].role must be one of system, developer, user, assistant, tool.`, `messages[${i}].role`);
    }
    const m = message as RequestMessage;
    if (m.role === "assistant" && Array.isArray(m.tool_calls)) {
      for (const call of m.tool_calls) {
        if (!call || typeof call.id !== "string" || typeof call.function?.name !== "string") {
          return invalid(`messages[${i}].tool_calls must have an id and a function name.`, `messages[${i}].tool_calls`);
        }
        if (!MISTRAL_TOOL_CALL_ID.test(call.id)) return badToolCallId(call.id);
        toolCallIds.add(call.id);
      }
    }
    if (m.role === "tool") {
      if (typeof m.tool_call_id !== "string") {
        return invalid(`messages[${i}].tool_call_id is required for tool messages.`, `messages[${i}].tool_call_id`);
      }
      if (!MISTRAL_TOOL_CALL_ID.test(m.tool_call_id)) return badToolCallId(m.tool_call_id);
      if (!toolCallIds.has(m.tool_call_id)) {
        return invalid(`messages[${i}].tool_call_id does not answer a tool call of an earlier assistant message.`, `messages[${i}].tool_call_id`);
      }
    } else if (m.role !== "assistant" && m.content === undefined) {
      return invalid(`messages[${i}].content is required.`, `messages[${i}].content`);
    }
  }
  return value as RequestMessage[];
}

function badToolCallId(id: string): WireError {
  return wireError(400, "invalid_tool_call_id", `Tool call id was ${id} but must be a-z, A-Z, 0-9, with a length of 9.`, "messages");
}

function checkResponseFormat(value: unknown): ChatRequest["responseFormat"] | WireError {
  if (value === undefined || value === null) return { type: "text" };
  const format = value as { type?: unknown; json_schema?: { schema?: unknown } };
  if (format.type === "text" || format.type === "json_object") return { type: format.type };
  if (format.type === "json_schema") {
    const schema = format.json_schema?.schema;
    if (!schema || typeof schema !== "object") {
      return invalid("response_format.json_schema.schema must be a JSON Schema object.", "response_format");
    }
    return { type: "json_schema", schema: schema as Record<string, unknown> };
  }
  return invalid("response_format.type must be text, json_object or json_schema.", "response_format");
}

function checkTools(value: unknown): ToolDefinition[] | WireError {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return invalid("tools must be an array.", "tools");
  const tools: ToolDefinition[] = [];
  for (const [i, tool] of value.entries()) {
    const fn = (tool as { type?: unknown; function?: ToolDefinition } | null)?.function;
    if ((tool as { type?: unknown } | null)?.type !== "function" || !fn || typeof fn.name !== "string" || fn.name === "") {
      return invalid(`tools[${i}] must be {"type": "function", "function": {"name", ...}}.`, `tools[${i}]`);
    }
    tools.push(fn);
  }
  return tools;
}

function checkToolChoice(value: unknown, tools: ToolDefinition[]): ToolChoice | WireError {
  if (value === undefined || value === null) return "auto";
  if (value === "auto" || value === "none" || value === "required") return value;
  const name = (value as { function?: { name?: unknown } }).function?.name;
  if (typeof name === "string" && tools.some((t) => t.name === name)) return { name };
  return invalid("tool_choice must be auto, none, required or a named function of tools.", "tool_choice");
}
