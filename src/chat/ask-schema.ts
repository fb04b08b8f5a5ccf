import { type Static, Type } from "@sinclair/typebox";
import { ResponseFormat } from "./schema.js";

/** A turn of an Ask conversation: text only, as an Ask answer returns it. */
export const AskMessage = Type.Object(
  {
    role: Type.Union([Type.Literal("system"), Type.Literal("user"), Type.Literal("assistant")], { description: "Who said it." }),
    content: Type.String({ description: "What was said." }),
  },
  { additionalProperties: false, description: "One turn of the conversation." },
);

/**
 * `POST /api/ask`: one question in, one answer out, for workflow authors who do not want to build a
 * messages array. The same engine, checks and limits as `/api/chat`.
 */
export const AskRequest = Type.Object(
  {
    prompt: Type.String({ minLength: 1, description: "The question or instruction, e.g. the document to summarise with what to do with it." }),
    system: Type.Optional(Type.String({ minLength: 1, description: "Instructions for the model (a system message); replaces one in messages." })),
    messages: Type.Optional(
      Type.Array(AskMessage, { maxItems: 254, description: "The conversation so far, as a previous answer's messages returned it; the prompt follows it." }),
    ),
    model: Type.Optional(Type.String({ minLength: 1, description: "A deployment alias, e.g. mistral-large; the first deployment when absent." })),
    response_format: Type.Optional(ResponseFormat),
    max_tokens: Type.Optional(Type.Integer({ minimum: 1, description: "The most tokens the answer may have." })),
    temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: "Sampling temperature, 0 to 1." })),
    top_p: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: "Nucleus sampling, 0 to 1." })),
    seed: Type.Optional(Type.Integer({ minimum: 0, description: "For repeatable answers." })),
    safe_mode: Type.Optional(Type.Boolean({ description: "Mistral's safe prompt." })),
    server_tools: Type.Optional(
      Type.Array(Type.String({ pattern: "^[a-zA-Z0-9_-]{1,64}$" }), {
        minItems: 1,
        maxItems: 32,
        uniqueItems: true,
        description: "Registered tools the server runs for the model, e.g. get_flight_info.",
      }),
    ),
  },
  { additionalProperties: false },
);

export type AskRequest = Static<typeof AskRequest>;
export type AskMessage = Static<typeof AskMessage>;

/** What Ask answers. */
export interface AskResponse {
  id: string;
  model: string;
  created: number;
  /** The answer's text. */
  answer: string;
  /** In JSON mode, the answer parsed (and checked against the caller's schema). */
  parsed?: unknown;
  /** The conversation with this question and answer: send it as `messages` to ask a follow-up. */
  messages: AskMessage[];
  finish_reason: string;
  usage: unknown;
}
