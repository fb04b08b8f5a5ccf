import type { ExtraParametersMode } from "../inference/index.js";
import { HttpProblem } from "../lib/problem.js";
import type { UpstreamRequest } from "./upstream-request.js";

/**
 * The fields of the Azure AI Model Inference API's chat request (and of the OpenAI v1 API's that the app
 * forwards): what a model API takes without an `extra-parameters` header.
 */
const MODEL_API_FIELDS = new Set([
  "messages",
  "model",
  "stream",
  "frequency_penalty",
  "presence_penalty",
  "temperature",
  "top_p",
  "max_tokens",
  "response_format",
  "stop",
  "tools",
  "tool_choice",
  "seed",
  "modalities",
]);

/**
 * Mistral's own fields (its chat API, as `@mistralai/mistralai` sends them) that a Mistral deployment on
 * Azure takes as extra parameters, each with its type. `random_seed` is not here: it is the model APIs' `seed`.
 */
const MISTRAL_FIELDS: Readonly<Record<string, readonly [valid: (value: unknown) => boolean, rule: string]>> = {
  safe_prompt: [(v) => typeof v === "boolean", "a boolean"],
  prompt_mode: [(v) => typeof v === "string" && v.length <= 64, "a string"],
  parallel_tool_calls: [(v) => typeof v === "boolean", "a boolean"],
  prediction: [(v) => typeof v === "object" && v !== null && !Array.isArray(v), "an object"],
};

/**
 * `/api/v1`, where the OpenAI and Mistral SDKs send their requests, takes Mistral's fields as first-class:
 * `random_seed` becomes `seed`, and `safe_prompt` and the other fields Mistral's API defines reach the model
 * without the caller sending `extra-parameters`. They are extra parameters to the model APIs, so the app sends
 * `extra-parameters: pass-through` for them, and applies the caller's own rule (the header, `error` by default)
 * to every other field neither API defines, as the model would have: `error` refuses them with the model's
 * 400 `extra_parameters_not_allowed`, `drop` leaves them out, `pass-through` sends them.
 */
export function withMistralFields(upstream: UpstreamRequest): UpstreamRequest {
  const body = { ...upstream.body } as Record<string, unknown>;
  if (body.random_seed !== undefined && body.random_seed !== null) {
    const seed = body.random_seed;
    if (typeof seed !== "number" || !Number.isSafeInteger(seed) || seed < 0) throw invalid("random_seed must be an integer of at least 0.", "random_seed");
    if (body.seed !== undefined && body.seed !== null && body.seed !== seed) throw invalid("random_seed and seed differ; send one of them.", "random_seed");
    body.seed = seed;
  }
  delete body.random_seed;
  const mistral = Object.keys(body).filter((field) => Object.hasOwn(MISTRAL_FIELDS, field));
  for (const field of mistral) {
    if (body[field] === null) {
      delete body[field];
      continue;
    }
    const [valid, rule] = MISTRAL_FIELDS[field] as (typeof MISTRAL_FIELDS)[string];
    if (!valid(body[field])) throw invalid(`${field} must be ${rule}.`, field);
  }
  if (!mistral.some((field) => field in body)) return { ...upstream, body: body as UpstreamRequest["body"] };

  const others = Object.keys(body).filter((field) => !MODEL_API_FIELDS.has(field) && !Object.hasOwn(MISTRAL_FIELDS, field));
  const mode: ExtraParametersMode = upstream.extraParameters ?? "error";
  if (others.length > 0 && mode === "error") {
    throw new HttpProblem({
      status: 400,
      code: "extra_parameters_not_allowed",
      title: "Bad Request",
      detail:
        `Extra parameters [${others.map((k) => `'${k}'`).join(", ")}] are not allowed when extra-parameters is not set or set to be 'error'. ` +
        "Set extra-parameters to 'pass-through' to pass to the model.",
      extensions: { param: others[0] },
    });
  }
  if (mode === "drop") for (const field of others) delete body[field];
  return { ...upstream, body: body as UpstreamRequest["body"], extraParameters: "pass-through" };
}

const invalid = (detail: string, param: string) =>
  new HttpProblem({ status: 400, code: "invalid_request", title: "Bad Request", detail, extensions: { param } });
