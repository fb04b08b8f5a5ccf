import { type Static, Type } from "@sinclair/typebox";

/**
 * The app contract's request (`/api/chat`, `/api/chat/stream`), as JSON Schema: the one description
 * that validates requests and (later) generates the OpenAPI document. Ranges are the model's own;
 * values outside them are refused, never clamped.
 */
const Text = (description: string) => Type.String({ description });

/** A tool call replayed from an earlier answer; the seed's replayed calls carry `call_id: null`. */
export const ToolCall = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 128, description: "The tool call's id, as the model gave it." }),
    type: Type.Literal("function"),
    function: Type.Object(
      {
        name: Type.String({ minLength: 1, maxLength: 64 }),
        arguments: Type.String({ description: "The arguments as a JSON string." }),
        call_id: Type.Optional(Type.Union([Type.String(), Type.Null()])),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

/** One schema per role, chosen by `role`, so an error names the field that is wrong for that role. */
export const MessageByRole = {
  system: Type.Object({ role: Type.Literal("system"), content: Text("Instructions for the model.") }, { additionalProperties: false }),
  user: Type.Object({ role: Type.Literal("user"), content: Text("What the user said.") }, { additionalProperties: false }),
  assistant: Type.Object(
    {
      role: Type.Literal("assistant"),
      content: Type.Optional(Type.Union([Type.String(), Type.Null()])),
      tool_calls: Type.Optional(Type.Array(ToolCall, { minItems: 1 })),
    },
    { additionalProperties: false },
  ),
  tool: Type.Object(
    {
      role: Type.Literal("tool"),
      tool_call_id: Type.String({ minLength: 1, maxLength: 128 }),
      content: Text("The tool's result, usually JSON."),
      name: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    },
    { additionalProperties: false },
  ),
};

export const Message = Type.Object(
  { role: Type.Union([Type.Literal("system"), Type.Literal("user"), Type.Literal("assistant"), Type.Literal("tool")]) },
  { additionalProperties: true, description: "A chat message: system, user, assistant (with tool_calls) or tool (with tool_call_id)." },
);

export const Tool = Type.Object(
  {
    type: Type.Literal("function"),
    function: Type.Object(
      {
        name: Type.String({ pattern: "^[a-zA-Z0-9_-]{1,64}$", description: "Letters, digits, _ and -, at most 64." }),
        description: Type.Optional(Type.String({ maxLength: 1024 })),
        parameters: Type.Optional(Type.Object({}, { additionalProperties: true, description: "JSON Schema of the arguments." })),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export const ToolChoice = Type.Union([
  Type.Literal("auto"),
  Type.Literal("none"),
  Type.Literal("required"),
  Type.Object(
    { type: Type.Literal("function"), function: Type.Object({ name: Type.String({ minLength: 1 }) }, { additionalProperties: false }) },
    { additionalProperties: false },
  ),
]);

export const ResponseFormat = Type.Union([
  Type.Object({ type: Type.Literal("text") }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal("json_object") }, { additionalProperties: false }),
  Type.Object(
    {
      type: Type.Literal("json_schema"),
      json_schema: Type.Object(
        {
          name: Type.String({ pattern: "^[a-zA-Z0-9_-]{1,64}$" }),
          description: Type.Optional(Type.String()),
          schema: Type.Object({}, { additionalProperties: true, description: "The JSON Schema the answer must match." }),
          strict: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
    },
    { additionalProperties: false },
  ),
]);

export const ChatRequest = Type.Object(
  {
    messages: Type.Array(Message, { minItems: 1, description: "The conversation so far; at most 256 messages." }),
    model: Type.Optional(Type.String({ minLength: 1, description: "A deployment alias, e.g. mistral-large; the first deployment when absent." })),
    stream: Type.Optional(Type.Boolean({ description: "Accepted as in the seed's requests; the route decides: /api/chat/stream streams." })),
    temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    top_p: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    max_tokens: Type.Optional(Type.Integer({ minimum: 1 })),
    stop: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 4 })])),
    presence_penalty: Type.Optional(Type.Number({ minimum: -2, maximum: 2 })),
    frequency_penalty: Type.Optional(Type.Number({ minimum: -2, maximum: 2 })),
    seed: Type.Optional(Type.Integer({ minimum: 0 })),
    response_format: Type.Optional(ResponseFormat),
    safe_mode: Type.Optional(Type.Boolean({ description: "Mistral's safe prompt: sent as safe_prompt." })),
    tools: Type.Optional(Type.Array(Tool, { minItems: 1, maxItems: 128, description: "Tools the caller runs itself (the seed's flow)." })),
    tool_choice: Type.Optional(ToolChoice),
    server_tools: Type.Optional(
      Type.Array(Type.String({ pattern: "^[a-zA-Z0-9_-]{1,64}$" }), {
        minItems: 1,
        maxItems: 32,
        uniqueItems: true,
        description: "Registered tools the server runs for the model, in a loop, e.g. get_flight_info.",
      }),
    ),
    extra: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description: "Parameters passed to the model as they are (extra-parameters: pass-through), e.g. logprobs.",
      }),
    ),
  },
  { additionalProperties: false },
);

export type ChatMessage =
  | Static<(typeof MessageByRole)["system"]>
  | Static<(typeof MessageByRole)["user"]>
  | Static<(typeof MessageByRole)["assistant"]>
  | Static<(typeof MessageByRole)["tool"]>;

/** The request once every message has passed its role's schema. */
export type ChatRequest = Omit<Static<typeof ChatRequest>, "messages"> & { messages: ChatMessage[] };

/** The app contract's answer, documented in the OpenAPI description and checked against it in the tests. */
export const ChatResponse = Type.Object({
  id: Type.String(),
  model: Type.String({ description: "The deployment alias that answered." }),
  created: Type.Integer({ description: "Unix time, in seconds." }),
  message: Type.Object({
    role: Type.Literal("assistant"),
    content: Type.String(),
    tool_calls: Type.Optional(
      Type.Array(Type.Object({ id: Type.String(), type: Type.Literal("function"), function: Type.Object({ name: Type.String(), arguments: Type.String() }) })),
    ),
    parsed: Type.Optional(Type.Unknown({ description: "The answer parsed, in JSON mode." })),
  }),
  finish_reason: Type.String({ description: "stop, length, tool_calls or content_filter." }),
  usage: Type.Union([Type.Object({ prompt_tokens: Type.Integer(), completion_tokens: Type.Integer(), total_tokens: Type.Integer() }), Type.Null()]),
  steps: Type.Array(Type.Unknown(), { description: "The server-run tool calls, in order." }),
});
