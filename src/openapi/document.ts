import { PROBLEM_CATALOG } from "../lib/problem-catalog.js";
import { type Annotations, ASK_REQUEST, ASK_RESPONSE, annotate, CHAT_REQUEST, CHAT_RESPONSE, INFO, INFO_OPERATION } from "./annotations.js";
import { AskRequestView, AskResponseView, ChatRequestView, ChatResponseView, Health, Info, JobAccepted, JobPending, Problem } from "./shapes.js";
import { type JsonSchema, toSwaggerSchema } from "./swagger-schema.js";

/** A schema as 2.0 writes it, with its designer annotations. */
const schema = (s: unknown, annotations: Annotations = {}, name = "schema") =>
  annotate(toSwaggerSchema(JSON.parse(JSON.stringify(s)) as JsonSchema), annotations, name);

/** The range `x-request-timeout-ms` takes, as src/http/caller-deadline.ts checks it (a test holds the two together). */
export const REQUEST_TIMEOUT_MS = { minimum: 1_000, maximum: 230_000 } as const;

const body = (ref: string, summary: string, description: string) => ({
  name: "body",
  in: "body",
  required: true,
  "x-ms-summary": summary,
  description,
  schema: { $ref: `#/definitions/${ref}` },
});
const chatRequestBody = body("ChatRequest", "Request", "The conversation for the model, and how it should answer.");

/** The caller's own deadline: read by the routes that call the model while the caller waits (/chat, /ask). */
const requestTimeout = {
  name: "x-request-timeout-ms",
  in: "header",
  required: false,
  type: "integer",
  ...REQUEST_TIMEOUT_MS,
  "x-ms-summary": "Timeout (ms)",
  "x-ms-visibility": "advanced",
  description:
    "How long the workflow waits, in milliseconds (1000 to 230000): the model call ends with a 504 before then, rather than " +
    "running on after the workflow gave up. Logic Apps waits 120000 (2 minutes) by default.",
};
const allowFallback = {
  name: "x-allow-fallback",
  in: "header",
  required: false,
  type: "boolean",
  default: false,
  "x-ms-summary": "Allow Fallback",
  "x-ms-visibility": "advanced",
  description: "true lets another deployment (usually a smaller model) answer when the one asked for is down; off by default.",
};
const idempotencyKey = (description: string) => ({
  name: "Idempotency-Key",
  in: "header",
  required: false,
  type: "string",
  minLength: 1,
  maxLength: 255,
  "x-ms-summary": "Idempotency Key",
  "x-ms-visibility": "advanced",
  description: `${description} 1 to 255 printable ASCII characters, e.g. the run's name and the action's.`,
});
const jobIdParameter = {
  name: "id",
  in: "path",
  required: true,
  type: "string",
  "x-ms-summary": "Job ID",
  "x-ms-visibility": "important",
  description: "The job's id, from the body of the 202 that accepted it (the last segment of its Location).",
};

const chatAnswer = (description: string) => ({ description, schema: { $ref: "#/definitions/ChatResponse" } });
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

const security = [{ api_key: [] }];

/**
 * The OpenAPI 2.0 description of the app contract (Logic Apps custom connectors import only 2.0),
 * built from the same schemas that validate requests, with what a designer needs on top (see
 * annotations.ts). The streaming route is left out: a connector cannot read a stream.
 */
export function openApiDocument({ host, scheme, basePath = "/api" }: { host: string; scheme: "http" | "https"; basePath?: string }): Record<string, unknown> {
  return {
    swagger: "2.0",
    info: {
      title: "Mistral chat",
      version: "1.0",
      description: "Mistral chat models on Azure AI behind one governed endpoint.",
    },
    host,
    basePath,
    schemes: [scheme],
    consumes: ["application/json"],
    produces: ["application/json"],
    securityDefinitions: { api_key: { type: "apiKey", in: "header", name: "api-key", description: "A caller key." } },
    paths: {
      "/ask": {
        post: {
          operationId: "Ask",
          summary: "Ask a question",
          description:
            "Sends one prompt (with optional instructions, earlier conversation and JSON mode) to a Mistral model and returns the answer's " +
            "text, the parsed JSON in JSON mode, and the conversation to send with a follow-up.",
          "x-ms-visibility": "important",
          security,
          parameters: [
            body("AskRequest", "Request", "The prompt, and how the model should answer."),
            requestTimeout,
            allowFallback,
            idempotencyKey("Makes retries safe: the same key and body within a day get the first answer back; the model is called once."),
          ],
          responses: {
            200: { description: "The model's answer.", schema: { $ref: "#/definitions/AskResponse" } },
            ...errors(400, 401, 409, 413, 415, 422, 429, 500, 502, 503, 504),
          },
        },
      },
      "/chat": {
        post: {
          operationId: "Chat",
          summary: "Chat completion",
          description:
            "Sends a conversation to a Mistral model and returns its answer: the text, tool calls, the parsed JSON in JSON mode, and " +
            "the server-run tool steps. For work that may take longer than the workflow waits, use the asynchronous action.",
          "x-ms-visibility": "important",
          security,
          parameters: [
            chatRequestBody,
            requestTimeout,
            allowFallback,
            idempotencyKey("Makes retries safe: the same key and body within a day get the first answer back; the model is called once."),
          ],
          responses: {
            200: chatAnswer("The model's answer."),
            ...errors(400, 401, 409, 413, 415, 422, 429, 500, 502, 503, 504),
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
          "x-ms-visibility": "important",
          security,
          parameters: [
            chatRequestBody,
            allowFallback,
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
          "x-ms-visibility": "advanced",
          security,
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
          "x-ms-visibility": "advanced",
          security,
          parameters: [jobIdParameter],
          responses: {
            204: { description: "The job is cancelled (or already was)." },
            ...errors(401, 404, 409, 503),
          },
        },
      },
      "/info": {
        get: {
          operationId: INFO_OPERATION,
          summary: "Model information",
          description: "Lists the model deployments, the default one first, with the model each serves: the choices of the Model field.",
          "x-ms-visibility": "advanced",
          security,
          responses: { 200: { description: "Each deployment's model.", schema: schema(Info, INFO, "Info") }, ...errors(401, 502, 503) },
        },
      },
      "/health": {
        get: {
          operationId: "GetHealth",
          summary: "Liveness",
          description: "Answers 200 while the app is up: for monitoring, not for workflows.",
          "x-ms-visibility": "internal",
          responses: { 200: { description: "The app is up.", schema: schema(Health) } },
        },
      },
    },
    definitions: {
      AskRequest: schema(AskRequestView, ASK_REQUEST, "AskRequest"),
      AskResponse: schema(AskResponseView, ASK_RESPONSE, "AskResponse"),
      ChatRequest: schema(ChatRequestView, CHAT_REQUEST, "ChatRequest"),
      ChatResponse: schema(ChatResponseView, CHAT_RESPONSE, "ChatResponse"),
      Problem: schema(Problem),
    },
  };
}
