import type { ChatCompletionsBody, ExtraParametersMode, ModelPort, ModelRegistry } from "../inference/index.js";
import { HttpProblem, tooManyTokens, unknownModel } from "../lib/problem.js";

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

/** Longer model names are not deployments of ours, and are not echoed back in full. */
const MAX_MODEL_NAME_ECHO = 64;

/**
 * The body's typed fields other than the token limits, with OpenAI's and Azure AI Model Inference's
 * documented ranges. Each is checked by type and range before anything uses it; `null` means unset.
 */
const FIELD_RULES: ReadonlyArray<readonly [field: string, valid: (value: unknown) => boolean, rule: string]> = [
  ["temperature", numberFrom(0, 2), "a number from 0 to 2"],
  ["top_p", numberFrom(0, 1), "a number from 0 to 1"],
  ["presence_penalty", numberFrom(-2, 2), "a number from -2 to 2"],
  ["frequency_penalty", numberFrom(-2, 2), "a number from -2 to 2"],
  ["seed", Number.isSafeInteger, `an integer from ${Number.MIN_SAFE_INTEGER} to ${Number.MAX_SAFE_INTEGER}`],
  ["top_logprobs", (v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 20, "an integer from 0 to 20"],
  ["logprobs", (v) => typeof v === "boolean", "a boolean"],
];

/**
 * Turns a drop-in request into the upstream call: picks the deployment from `model`, and translates
 * what OpenAI clients send by default but the Azure AI Model Inference API does not define.
 * Typed fields are checked first (a 400 naming the field; quotas and the model rely on them), fields
 * sent as `null` are left out; everything else reaches the model untouched, and the model answers for it.
 */
/** The request as far as its headers go (an HttpRequest, or anything with `headers.get`). */
export interface WithHeaders {
  headers: { get(name: string): string | null };
}

export function toUpstreamRequest(body: unknown, request: WithHeaders, models: ModelRegistry, maxTokens = Number.POSITIVE_INFINITY): UpstreamRequest {
  if (!body || typeof body !== "object" || Array.isArray(body)) {
    throw invalid("The request body must be a JSON object.", null);
  }
  const { model, stream, stream_options: streamOptions, n, max_completion_tokens: maxCompletionTokens, ...rest } = body as Record<string, unknown>;
  checkMessages(rest.messages);
  if (isSet(stream) && typeof stream !== "boolean") throw invalid("stream must be a boolean.", "stream");
  if (isSet(streamOptions) && !isObject(streamOptions)) throw invalid("stream_options must be an object.", "stream_options");
  if (isSet(n) && n !== 1) throw invalid("Only n = 1 is supported: the model returns one choice.", "n");

  // The quota reservation and the model both read max_tokens: a safe integer within the ceiling, or absent.
  const answerTokens = tokenLimit(rest.max_tokens, "max_tokens", maxTokens);
  const completionTokens = tokenLimit(maxCompletionTokens, "max_completion_tokens", maxTokens);
  if (answerTokens !== undefined && completionTokens !== undefined && answerTokens !== completionTokens) {
    throw invalid("max_completion_tokens and max_tokens differ; send one of them.", "max_completion_tokens");
  }
  const limit = answerTokens ?? completionTokens;
  if (limit === undefined) delete rest.max_tokens;
  else rest.max_tokens = limit;

  for (const [field, valid, rule] of FIELD_RULES) {
    const value = rest[field];
    if (value === null) delete rest[field];
    else if (value !== undefined && !valid(value)) throw invalid(`${field} must be ${rule}.`, field);
  }

  return {
    port: deploymentFor(model, models),
    body: rest as ChatCompletionsBody,
    stream: stream === true,
    extraParameters: extraParametersOf(request),
    includeUsage: stream === true && isObject(streamOptions) && streamOptions.include_usage === true,
  };
}

function checkMessages(messages: unknown): void {
  if (!Array.isArray(messages) || messages.length === 0) {
    throw invalid("messages is required: a non-empty array of chat messages.", "messages");
  }
  for (let i = 0; i < messages.length; i++) {
    const message: unknown = messages[i];
    if (!isObject(message) || typeof message.role !== "string") {
      throw invalid(`messages[${i}] must be an object with a string role.`, `messages[${i}]`);
    }
  }
}

/**
 * A token limit the caller set: undefined when unset (absent or null), else an integer from 1 to the
 * ceiling (MODEL_MAX_TOKENS), over which the app refuses rather than clamps.
 */
function tokenLimit(value: unknown, field: "max_tokens" | "max_completion_tokens", ceiling: number): number | undefined {
  if (!isSet(value)) return undefined;
  const range = Number.isFinite(ceiling) ? `from 1 to ${ceiling}` : "of at least 1";
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) throw invalid(`${field} must be an integer ${range}.`, field);
  if (value > ceiling) {
    const over = tooManyTokens(ceiling);
    if (field === "max_tokens") throw over;
    throw new HttpProblem({
      status: over.status,
      code: over.code,
      title: over.title,
      detail: over.detail.replace("max_tokens", field),
      headers: over.headers,
      extensions: { ...over.extensions, param: field },
    });
  }
  // Only reachable without a ceiling: integers past 2^53 are not exact.
  if (!Number.isSafeInteger(value)) throw invalid(`${field} must be an integer ${range}.`, field);
  return value;
}

function numberFrom(min: number, max: number): (value: unknown) => boolean {
  // NaN and the infinities cannot come from JSON, but the comparisons refuse them anyway.
  return (value) => typeof value === "number" && value >= min && value <= max;
}

const isSet = (value: unknown) => value !== undefined && value !== null;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

function deploymentFor(model: unknown, models: ModelRegistry): ModelPort {
  if (model === undefined || model === null || model === "") return models.default;
  if (typeof model !== "string") throw invalid("model must be a string naming a deployment.", "model");
  const port = models.find(model);
  if (!port) {
    throw unknownModel(model.length > MAX_MODEL_NAME_ECHO ? `${model.slice(0, MAX_MODEL_NAME_ECHO)}…` : model, models.aliases);
  }
  return port;
}

function extraParametersOf(request: WithHeaders): ExtraParametersMode | undefined {
  const value = request.headers.get("extra-parameters") ?? undefined;
  if (value !== undefined) {
    if (!MODES.has(value)) throw invalid("extra-parameters must be error, drop or pass-through.", "extra-parameters");
    return value as ExtraParametersMode;
  }
  const legacy = request.headers.get("extra-params");
  return legacy ? LEGACY_MODES[legacy.toLowerCase()] : undefined;
}

const invalid = (detail: string, param: string | null) =>
  new HttpProblem({ status: 400, code: "invalid_request", title: "Bad Request", detail, extensions: param ? { param } : {} });
