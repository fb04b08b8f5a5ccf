import type { Readable } from "node:stream";
import type { DeploymentConfig } from "../config/index.js";
import type { ChatCompletionsBody } from "../lib/wire.js";

/**
 * The model APIs a deployment can be reached through: Azure AI Model Inference (`/chat/completions`
 * with an `api-version`, through @azure-rest/ai-inference) or Foundry's OpenAI v1 API
 * (`.../openai/v1/chat/completions`, the deployment as `model`, through the `openai` client).
 */
export type ModelApi = DeploymentConfig["api"];

/** What the model answered, before the port reads it: a JSON body (answers and errors) or a stream. */
export interface WireAnswer {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  body?: unknown;
  stream?: Readable;
}

/**
 * One deployment's API client, as the port uses it: the request on the wire, nothing more. Timeouts,
 * retries, credentials' renewal, errors and streams are the port's, the same for every API. A wire
 * answers every status it receives; it throws only when no answer came (the connection, the signal).
 */
export interface ModelWire {
  readonly api: ModelApi;
  chat(body: ChatCompletionsBody, options: { headers: Record<string, string>; signal: AbortSignal; stream: boolean }): Promise<WireAnswer>;
  /** The deployment's model info, `{model_name, model_type, model_provider_name}` when the status is 200. */
  info(signal: AbortSignal): Promise<WireAnswer>;
}

export function lowerCaseHeaders(headers: Iterable<[string, string]> | Record<string, string>): Record<string, string> {
  const entries = Symbol.iterator in headers ? [...(headers as Iterable<[string, string]>)] : Object.entries(headers);
  return Object.fromEntries(entries.map(([name, value]) => [name.toLowerCase(), value]));
}
