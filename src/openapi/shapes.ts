import { Type } from "@sinclair/typebox";
import { AskMessage, AskRequest } from "../chat/ask-schema.js";
import { ChatRequest, ChatResponse, MessageByRole } from "../chat/schema.js";

/**
 * The shapes the OpenAPI document shows beside the request schemas of src/chat: answers that have no
 * schema of their own there (Ask's, /info's, a job's, a problem), and the views of the chat request and
 * answer a designer can use (2.0 has no oneOf; a route that cannot stream takes no `stream`).
 */

export const Problem = Type.Object(
  {
    type: Type.String({ description: "A URN naming the problem, one per code, e.g. urn:mistral-functions:problem:rate_limited." }),
    title: Type.String({ description: "A short title for the problem, e.g. Too Many Requests." }),
    status: Type.Integer({ description: "The HTTP status, as the answer's own." }),
    detail: Type.String({ description: "What went wrong with this request, for people." }),
    code: Type.String({ description: "Stable for programs, e.g. invalid_request, content_filtered, rate_limited." }),
    request_id: Type.String({ description: "The request's id: quote it when reporting a problem." }),
    param: Type.Optional(
      Type.Union([Type.String(), Type.Null()], { description: "The request field the problem is about; null when it is the body as a whole." }),
    ),
  },
  { description: "A problem (RFC 9457 application/problem+json)." },
);

export const Info = Type.Object(
  {
    deployments: Type.Array(
      Type.Object(
        {
          alias: Type.String({ description: "The deployment's alias: the value of model that asks for it." }),
          default: Type.Boolean({ description: "Whether this deployment answers when model is left empty." }),
          model_name: Type.Optional(Type.String({ description: "The model the deployment serves, as it reports it." })),
          model_type: Type.Optional(Type.String({ description: "The model's type, e.g. chat-completion." })),
          model_provider_name: Type.Optional(Type.String({ description: "The model's provider, e.g. Mistral." })),
          error: Type.Optional(
            Type.Object(
              {
                code: Type.String({ description: "The problem's code, e.g. upstream_unreachable." }),
                message: Type.String({ description: "What went wrong." }),
              },
              { description: "Why the deployment could not tell its model, when it could not." },
            ),
          ),
        },
        { description: "One deployment." },
      ),
      { description: "The configured deployments, the default one first." },
    ),
  },
  { description: "Each deployment's model." },
);

export const Health = Type.Object({ status: Type.Literal("ok", { description: "Always ok: the app is up." }) }, { description: "The app is up." });

const JobId = Type.String({ description: "The job's id (a UUID); the last segment of its Location." });
export const JobAccepted = Type.Object(
  {
    id: JobId,
    status: Type.Literal("queued", { description: "The job waits for a worker." }),
    created: Type.Integer({ description: "Unix time, in seconds." }),
  },
  { description: "The job that was queued." },
);
export const JobPending = Type.Object(
  {
    id: JobId,
    status: Type.Union([Type.Literal("queued"), Type.Literal("running")], { description: "queued (waiting for a worker) or running." }),
  },
  { description: "The job, not done yet." },
);

/**
 * One message with every role's fields: the request checks each message against its role's own schema,
 * which Swagger 2.0 (no oneOf) cannot express.
 */
export const AnyMessage = Type.Object(
  {
    role: Type.Union([Type.Literal("system"), Type.Literal("user"), Type.Literal("assistant"), Type.Literal("tool")]),
    content: Type.Optional(Type.String({ description: "The text; required for system, user and tool messages." })),
    tool_calls: Type.Optional(MessageByRole.assistant.properties.tool_calls),
    tool_call_id: Type.Optional(Type.String({ description: "For tool messages: the id of the call this answers." })),
    name: Type.Optional(Type.String({ description: "For tool messages: the tool's name." })),
  },
  { description: "A chat message: system, user, assistant (with tool_calls) or tool (with tool_call_id)." },
);

/** What the chat request is in the document: every field but `stream` (the routes in it answer JSON), each message with every role's fields. */
const { stream: _stream, ...requestFields } = ChatRequest.properties;
export const ChatRequestView = Type.Object(
  { ...requestFields, messages: { ...ChatRequest.properties.messages, items: AnyMessage } },
  { additionalProperties: false, description: "A conversation for the model, and how it should answer." },
);

/** Every value `finish_reason` has been seen to take; another one the model reports is passed on as it is. */
export const FINISH_REASONS = ["stop", "length", "tool_calls", "content_filter"] as const;
const FinishReason = Type.Union(
  FINISH_REASONS.map((reason) => Type.Literal(reason)),
  {
    description:
      "Why the model stopped: stop (a whole answer), length (cut at max_tokens; not parsed in JSON mode), tool_calls (it asks for tools) or content_filter.",
  },
);

/** In JSON mode, the answer as JSON: an object, as the JSON modes ask for. */
const Parsed = (description: string) => Type.Optional(Type.Object({}, { additionalProperties: true, description }));

/** A server-run tool call, as `steps` lists it (the engine's ToolStep). */
export const ToolStep = Type.Object(
  {
    tool_call: Type.Object(
      {
        id: Type.String({ description: "The call's id, as the model gave it." }),
        name: Type.String({ description: "The tool's name." }),
        arguments: Type.String({ description: "The arguments, as a JSON string." }),
      },
      { description: "The call the model made." },
    ),
    result: Type.Optional(Type.Unknown({ description: "What the tool answered (any JSON), when it ran." })),
    error: Type.Optional(Type.String({ description: "Why the call failed or was not run, when it did not run." })),
  },
  { description: "One server-run tool call and its outcome." },
);

/** /api/chat's answer as the document shows it: `parsed` an object, `finish_reason` its values, `steps` their shape. */
export const ChatResponseView = Type.Object({
  ...ChatResponse.properties,
  message: Type.Object(
    {
      ...ChatResponse.properties.message.properties,
      parsed: Parsed(
        "In JSON mode, the answer parsed (and checked against json_schema.schema when one was given); absent otherwise, and when the answer was cut.",
      ),
    },
    { description: "The model's answer." },
  ),
  finish_reason: FinishReason,
  steps: Type.Array(ToolStep, { description: ChatResponse.properties.steps.description }),
});

export const AskRequestView = AskRequest;

/** What `/api/ask` answers (its AskResponse). */
export const AskResponseView = Type.Object({
  id: ChatResponse.properties.id,
  model: ChatResponse.properties.model,
  created: ChatResponse.properties.created,
  answer: Type.String({ description: "The answer's text (in JSON mode, the JSON as text)." }),
  parsed: Parsed("In JSON mode, the answer parsed (and checked against json_schema.schema when one was given)."),
  messages: Type.Array(AskMessage, {
    description: "The conversation with this prompt and its answer: send it as messages to ask a follow-up.",
  }),
  finish_reason: FinishReason,
  usage: ChatResponse.properties.usage,
});
