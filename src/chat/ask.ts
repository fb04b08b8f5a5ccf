import type { ValidateFunction } from "ajv";
import { HttpProblem } from "../lib/problem.js";
import type { AskMessage, AskRequest, AskResponse } from "./ask-schema.js";
import type { ChatResponse } from "./from-wire.js";
import { contractAjv, fromAjv } from "./validate-request.js";

let validator: Promise<ValidateFunction<AskRequest>> | undefined;

/** Compiled with the first Ask, as the chat request's validators are. */
function compiled(): Promise<ValidateFunction<AskRequest>> {
  validator ??= import("./ask-schema.js").then(({ AskRequest: schema }) => contractAjv().compile<AskRequest>(schema));
  return validator;
}

/**
 * An Ask as the `/api/chat` body it stands for: the conversation (its system message replaced by
 * `system` when one is given), then the prompt as the user's turn; the other fields as they are.
 * The chat request's own checks (sizes, JSON mode, tools, the model) follow in `prepareChat`.
 */
/** The `/api/chat` body an Ask stands for; its conversation is what the answer's `messages` extends. */
export interface AskChat extends Record<string, unknown> {
  messages: AskMessage[];
}

export async function askToChat(body: unknown): Promise<AskChat> {
  if (!body || typeof body !== "object" || Array.isArray(body)) {
    throw new HttpProblem({
      status: 400,
      code: "invalid_request",
      detail: "The request body must be a JSON object.",
      extensions: { param: null, rule: "type" },
    });
  }
  const validate = await compiled();
  if (!validate(body)) throw fromAjv(validate.errors?.[0]);
  const { prompt, system, messages = [], ...rest } = body;
  const history = system === undefined ? messages : messages.filter((message) => message.role !== "system");
  const conversation: AskMessage[] = [...(system === undefined ? [] : [{ role: "system" as const, content: system }]), ...history];
  return { ...rest, messages: [...conversation, { role: "user", content: prompt }] };
}

/** The chat's answer as Ask answers: the text, the parsed JSON, and the conversation to send next time. */
export function chatToAsk(chat: AskChat, response: ChatResponse): AskResponse {
  const answer = response.message.content;
  return {
    id: response.id,
    model: response.model,
    created: response.created,
    answer,
    ...(response.message.parsed !== undefined ? { parsed: response.message.parsed } : {}),
    messages: [...chat.messages, { role: "assistant", content: answer }],
    finish_reason: response.finish_reason,
    usage: response.usage,
  };
}
