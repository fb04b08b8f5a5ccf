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
            { name: "body", in: "body", required: true, schema: { $ref: "#/definitions/ChatRequest" } },
            {
              name: "Idempotency-Key",
              in: "header",
              required: false,
              type: "string",
              maxLength: 255,
              "x-ms-summary": "Idempotency key",
              description: "Makes retries safe: the same key and body within a day get the first answer back; the model is called once.",
            },
          ],
          responses: {
            200: { description: "The model's answer.", schema: { $ref: "#/definitions/ChatResponse" } },
            ...errors(400, 401, 409, 413, 415, 422, 429, 502, 503, 504),
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
