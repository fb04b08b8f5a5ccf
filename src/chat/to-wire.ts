import type { ChatCompletionsBody, ExtraParametersMode, WireMessage } from "../lib/wire.js";
import type { ChatMessage, ChatRequest } from "./schema.js";
import type { ToolCallIds } from "./tool-call-ids.js";

const PASSED_AS_IS = [
  "temperature",
  "top_p",
  "max_tokens",
  "stop",
  "presence_penalty",
  "frequency_penalty",
  "seed",
  "response_format",
  "tools",
  "tool_choice",
] as const;

/**
 * The model request for an app-contract request: the conversation with tool-call ids Mistral
 * accepts, the sampling parameters as given, and `safe_mode` and `extra` as fields the model reads
 * when the request says `extra-parameters: pass-through`.
 */
export function toWireRequest(request: ChatRequest, ids: ToolCallIds): { body: ChatCompletionsBody; extraParameters?: ExtraParametersMode } {
  const body: ChatCompletionsBody = { messages: request.messages.map((m) => toWireMessage(m, ids)) };
  for (const name of PASSED_AS_IS) {
    if (request[name] !== undefined) body[name] = request[name];
  }
  const extras: Record<string, unknown> = { ...request.extra };
  if (request.safe_mode) extras.safe_prompt = true;
  if (Object.keys(extras).length === 0) return { body };
  return { body: { ...body, ...extras }, extraParameters: "pass-through" };
}

function toWireMessage(message: ChatMessage, ids: ToolCallIds): WireMessage {
  switch (message.role) {
    case "assistant":
      return {
        role: "assistant",
        // Mistral wants content beside tool calls; the seed sends "".
        content: message.content ?? "",
        ...(message.tool_calls ? { tool_calls: message.tool_calls.map((call) => ({ ...call, id: ids.forModel(call.id) })) } : {}),
      };
    case "tool":
      return { ...message, tool_call_id: ids.forModel(message.tool_call_id) };
    default:
      return { ...message };
  }
}
