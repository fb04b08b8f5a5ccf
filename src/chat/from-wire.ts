import type { ValidateFunction } from "ajv";
import { HttpProblem } from "../lib/problem.js";
import type { ChatCompletion, WireToolCall, WireUsage } from "../lib/wire.js";
import { parseJsonOutput } from "./json-output.js";
import type { ChatRequest } from "./schema.js";
import type { ToolCallIds } from "./tool-call-ids.js";

export interface ChatResponseMessage {
  role: "assistant";
  content: string;
  tool_calls?: Array<{ id: string; type: "function"; function: { name: string; arguments: string } }>;
  parsed?: unknown;
}

export interface ChatResponse {
  id: string;
  model: string;
  created: number;
  message: ChatResponseMessage;
  finish_reason: string;
  usage: WireUsage | null;
  steps: unknown[];
}

/** The app contract's answer for one model completion. */
export function toChatResponse(
  completion: ChatCompletion,
  alias: string,
  ids: ToolCallIds,
  request: ChatRequest,
  validate: ValidateFunction | undefined,
  loop: { steps: unknown[]; usage: WireUsage } | undefined = undefined,
): ChatResponse {
  const choice = completion.choices[0];
  if (!choice) throw new HttpProblem({ status: 502, code: "bad_upstream_response", title: "Bad Gateway", detail: "The model's answer has no choices." });
  const finishReason = choice.finish_reason ?? "stop";
  const content = choice.message.content ?? "";
  const message: ChatResponseMessage = { role: "assistant", content };
  const calls = choice.message.tool_calls;
  if (calls && calls.length > 0) message.tool_calls = calls.map((call) => toCallerCall(call, ids));
  const format = request.response_format?.type;
  // A cut-off answer is returned as text, unparsed, as the seed warns for finish_reason "length".
  if ((format === "json_object" || format === "json_schema") && finishReason === "stop") {
    message.parsed = parseJsonOutput(content, validate);
  }
  return {
    id: completion.id,
    model: alias,
    created: completion.created,
    message,
    finish_reason: finishReason,
    usage: loop
      ? loop.usage
      : completion.usage
        ? { prompt_tokens: completion.usage.prompt_tokens, completion_tokens: completion.usage.completion_tokens, total_tokens: completion.usage.total_tokens }
        : null,
    steps: loop?.steps ?? [],
  };
}

function toCallerCall(call: WireToolCall, ids: ToolCallIds) {
  return { id: ids.forCaller(call.id), type: "function" as const, function: { name: call.function.name, arguments: call.function.arguments } };
}
