import { Type } from "@sinclair/typebox";
import { ChatRequest, ChatResponse, MessageByRole } from "../chat/schema.js";
import { PROBLEM_CATALOG } from "../lib/problem-catalog.js";
import { type JsonSchema, toSwaggerSchema } from "./swagger-schema.js";

const Problem = Type.Object({
  type: Type.String(),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.String(),
  code: Type.String({ description: "Stable for programs, e.g. invalid_request, content_filtered, rate_limited." }),
  request_id: Type.String(),
  param: Type.Optional(Type.String({ description: "The request field the problem is about." })),
});

const Info = Type.Object({
  deployments: Type.Array(
    Type.Object({
      alias: Type.String(),
      default: Type.Boolean(),
      model_name: Type.Optional(Type.String()),
      model_type: Type.Optional(Type.String()),
      model_provider_name: Type.Optional(Type.String()),
      error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
    }),
  ),
});

const Health = Type.Object({ status: Type.Literal("ok") });

const JobId = Type.String({ description: "The job's id (a UUID); the last segment of its Location." });
const JobAccepted = Type.Object({
  id: JobId,
  status: Type.Literal("queued"),
  created: Type.Integer({ description: "Unix time, in seconds." }),
});
const JobPending = Type.Object({ id: JobId, status: Type.Union([Type.Literal("queued"), Type.Literal("running")]) });

/**
 * One message with every role's fields, for the document: the request checks each message against its
 * role's own schema, which Swagger 2.0 (no oneOf) cannot express.
 */
const AnyMessage = Type.Object(
  {
    role: Type.Union([Type.Literal("system"), Type.Literal("user"), Type.Literal("assistant"), Type.Literal("tool")]),
    content: Type.Optional(Type.String({ description: "The text; required for system, user and tool messages." })),
    tool_calls: Type.Optional(MessageByRole.assistant.properties.tool_calls),
    tool_call_id: Type.Optional(Type.String({ description: "For tool messages: the id of the call this answers." })),
    name: Type.Optional(Type.String({ description: "For tool messages: the tool's name." })),
  },
  { description: "A chat message: system, user, assistant (with tool_calls) or tool (with tool_call_id)." },
);

const schema = (s: unknown) => toSwaggerSchema(JSON.parse(JSON.stringify(s)) as JsonSchema);
const chatRequestBody = { name: "body", in: "body", required: true, schema: { $ref: "#/definitions/ChatRequest" } };
const chatAnswer = (description: string) => ({ description, schema: { $ref: "#/definitions/ChatResponse" } });
const idempotencyKey = (description: string) => ({
  name: "Idempotency-Key",
  in: "header",
  required: false,
  type: "string",
  maxLength: 255,
  "x-ms-summary": "Idempotency key",
  description,
});
const jobIdParameter = {
  name: "id",
  in: "path",
  required: true,
  type: "string",
  "x-ms-summary": "Job id",
  description: "The job's id, from the body of the 202 that accepted it (the last segment of its Location).",
};
/** The 202 of the asynchronous request-reply pattern: where to poll, and when. */
const pending = (description: string, body: unknown) => ({
  description,
  schema: schema(body),
  headers: {
    Location: { type: "string", description: "The job's absolute URL: GET it for its status, then its answer." },
    "Retry-After": { type: "integer", description: "Seconds to wait before polling Location again." },
  },
});
const problemRef = { $ref: "#/definitions/Problem" };
const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [String(status), { description: DESCRIPTIONS[status], schema: problemRef }]));

/** Each error status's description: the catalog's codes for it, so the two cannot drift apart. */
const DESCRIPTIONS: Record<number, string> = Object.fromEntries(
  [...new Set(Object.values(PROBLEM_CATALOG).map((entry) => entry.status))].map((status) => [
    status,
    Object.entries(PROBLEM_CATALOG)
      .filter(([, entry]) => entry.status === status)
      .map(([code, entry]) => `${code}: ${entry.meaning.replace(/`/g, "")}`)
      .join(" "),
  ]),
);

/**
 * The OpenAPI 2.0 description of the app contract (Logic Apps custom connectors import only 2.0),
 * built from the same schemas that validate requests.
 */
export function openApiDocument(host: string, scheme: "http" | "https"): Record<string, unknown> {
  return {
    swagger: "2.0",
    info: {
      title: "Mistral chat",
      version: "1.0",
      description: "Mistral chat models on Azure AI behind one governed endpoint.",
    },
    host,
    basePath: "/api",
    schemes: [scheme],
    consumes: ["application/json"],
    produces: ["application/json"],
    securityDefinitions: { api_key: { type: "apiKey", in: "header", name: "api-key", description: "A caller key." } },
    paths: {
      "/chat": {
        post: {
          operationId: "Chat",
          summary: "Chat completion",
          description: "Sends a conversation to a Mistral model and returns its answer.",
          "x-ms-summary": "Chat completion",
          security: [{ api_key: [] }],
          parameters: [
            chatRequestBody,
            idempotencyKey("Makes retries safe: the same key and body within a day get the first answer back; the model is called once."),
          ],
          responses: {
            200: chatAnswer("The model's answer."),
            ...errors(400, 401, 409, 413, 415, 422, 429, 502, 503, 504),
          },
        },
      },
      "/chat/jobs": {
        post: {
          operationId: "SubmitChatJob",
          summary: "Chat completion (asynchronous)",
          description:
            "Queues a chat completion as a job and answers 202 Accepted with Location and Retry-After: the asynchronous pattern, " +
            "which Logic Apps follows by itself, polling Location until the job is done. The action's outputs are then the model's " +
            "answer (200), or the job's problem with its own status. The body is checked and the caller's quota admitted first.",
          "x-ms-summary": "Chat completion (asynchronous)",
          security: [{ api_key: [] }],
          parameters: [
            chatRequestBody,
            idempotencyKey("Makes retries safe: the same key and body within a day get the same job back; the model is called once."),
          ],
          responses: {
            200: chatAnswer("The model's answer, once the job is done: what polling Location ends with."),
            202: pending("The job is queued: poll Location after Retry-After.", JobAccepted),
            ...errors(400, 401, 409, 413, 415, 422, 429, 500, 502, 503, 504),
          },
        },
      },
      "/chat/jobs/{id}": {
        get: {
          operationId: "GetChatJob",
          summary: "Get a chat job",
          description:
            "While the job is queued or running, 202 with its status, Location and Retry-After; when it is done, exactly what " +
            "/api/chat would have answered: 200 with the model's answer, or the problem with its own status. 409 job_cancelled " +
            "for a cancelled job.",
          "x-ms-summary": "Get a chat job",
          security: [{ api_key: [] }],
          parameters: [jobIdParameter],
          responses: {
            200: chatAnswer("The job is done: the model's answer."),
            202: pending("The job is queued or running: poll again after Retry-After.", JobPending),
            ...errors(400, 401, 404, 409, 422, 429, 500, 502, 503, 504),
          },
        },
        delete: {
          operationId: "CancelChatJob",
          summary: "Cancel a chat job",
          description: "Cancels a queued or running job (its running model call is aborted); 409 job_finished once it has finished.",
          "x-ms-summary": "Cancel a chat job",
          security: [{ api_key: [] }],
          parameters: [jobIdParameter],
          responses: {
            204: { description: "The job is cancelled (or already was)." },
            ...errors(401, 404, 409, 503),
          },
        },
      },
      "/info": {
        get: {
          operationId: "GetModelInfo",
          summary: "Model information",
          "x-ms-summary": "Model information",
          security: [{ api_key: [] }],
          responses: { 200: { description: "Each deployment's model.", schema: schema(Info) }, ...errors(401, 502) },
        },
      },
      "/health": {
        get: {
          operationId: "GetHealth",
          summary: "Liveness",
          "x-ms-summary": "Liveness",
          responses: { 200: { description: "The app is up.", schema: schema(Health) } },
        },
      },
    },
    definitions: {
      ChatRequest: schema({ ...ChatRequest, properties: { ...ChatRequest.properties, messages: { ...ChatRequest.properties.messages, items: AnyMessage } } }),
      ChatResponse: schema(ChatResponse),
      Problem: schema(Problem),
    },
  };
}
