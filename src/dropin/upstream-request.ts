import type { HttpRequest } from "@azure/functions";
import { HttpProblem, tooManyTokens, unknownModel } from "../http/problem.js";
import type { ChatCompletionsBody, ExtraParametersMode, ModelPort, ModelRegistry } from "../inference/index.js";

export interface UpstreamRequest {
  port: ModelPort;
  body: ChatCompletionsBody;
  stream: boolean;
  extraParameters: ExtraParametersMode | undefined;
  /** The caller asked for OpenAI's separate usage chunk (`stream_options.include_usage`). */
  includeUsage: boolean;
}

const MODES = new Set<string>(["error", "drop", "pass-through"]);
/** The seed's JavaScript sample spells the header `extra-params: passthrough`; it means pass-through. */
const LEGACY_MODES: Record<string, ExtraParametersMode> = { passthrough: "pass-through", "pass-through": "pass-through", drop: "drop", error: "error" };

/**
 * Turns a drop-in request into the upstream call: picks the deployment from `model`, and translates
 * what OpenAI clients send by default but the Azure AI Model Inference API does not define.
 * Everything else reaches the model untouched, and the model answers for it.
 */
export function toUpstreamRequest(body: unknown, request: HttpRequest, models: ModelRegistry, maxTokens = Number.POSITIVE_INFINITY): UpstreamRequest {
  if (!body || typeof body !== "object" || Array.isArray(body)) {
    throw invalid("The request body must be a JSON object.", null);
  }
  const { model, stream, stream_options: streamOptions, n, max_completion_tokens: maxCompletionTokens, ...rest } =
    body as Record<string, unknown>;
  if (!Array.isArray(rest.messages) || rest.messages.length === 0) {
    throw invalid("messages is required: a non-empty array of chat messages.", "messages");
  }
  if (stream !== undefined && stream !== null && typeof stream !== "boolean") throw invalid("stream must be a boolean.", "stream");
  if (n !== undefined && n !== null && n !== 1) throw invalid("Only n = 1 is supported: the model returns one choice.", "n");
  if (maxCompletionTokens !== undefined && rest.max_tokens === undefined) rest.max_tokens = maxCompletionTokens;
  if (typeof rest.max_tokens === "number" && rest.max_tokens > maxTokens) throw tooManyTokens(maxTokens);

  return {
    port: deploymentFor(model, models),
    body: rest as ChatCompletionsBody,
    stream: stream === true,
    extraParameters: extraParametersOf(request),
    includeUsage: stream === true && (streamOptions as { include_usage?: unknown } | undefined)?.include_usage === true,
  };
}

function deploymentFor(model: unknown, models: ModelRegistry): ModelPort {
  if (model === undefined || model === null || model === "") return models.default;
  const port = typeof model === "string" ? models.find(model) : undefined;
  if (!port) {
    throw unknownModel(model, models.aliases);
  }
  return port;
}

function extraParametersOf(request: HttpRequest): ExtraParametersMode | undefined {
  const value = request.headers.get("extra-parameters") ?? undefined;
  if (value !== undefined) {
    if (!MODES.has(value)) throw invalid("extra-parameters must be error, drop or pass-through.", "extra-parameters");
    return value as ExtraParametersMode;
  }
  const legacy = request.headers.get("extra-params");
  return legacy ? LEGACY_MODES[legacy.toLowerCase()] : undefined;
}

const invalid = (detail: string, param: string | null) => new HttpProblem(400, "invalid_request", "Bad Request", detail, {}, param ? { param } : {});
