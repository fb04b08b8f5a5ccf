import { Readable } from "node:stream";
import type { KeyCredential, TokenCredential } from "@azure/core-auth";
import type { DeploymentConfig } from "../config/index.js";
import { ModelError } from "../lib/model-error.js";
import type { ChatCompletionsBody } from "../lib/wire.js";
import { lowerCaseHeaders, type ModelWire, type WireAnswer } from "./model-wire.js";

/** The default scope of Foundry resources, where the v1 API is served. */
const FOUNDRY_SCOPE = "https://cognitiveservices.azure.com/.default";
/**
 * Past Azure's 230 s front-end limit no answer can reach a caller; the client's own timer (until the
 * headers) never fires first, as every call carries our shorter deadlines in its signal.
 */
const CLIENT_TIMEOUT_MS = 240_000;

type OpenAiModule = typeof import("openai");

/**
 * Foundry's OpenAI v1 API (`https://<resource>.services.ai.azure.com/openai/v1`) through the official
 * `openai` client: the deployment's name as `model`, the key (sent as a bearer token, which the v1 API
 * takes like `api-key`) or an Entra ID token for the resource's scope, asked for before each request so
 * a rotated key or a renewed token is used at once. Retries are ours (off here); the transport is ours
 * (`fetch`, over the app's connection pools). The client is loaded on first use, not at start-up.
 */
export function openAiWire(
  deployment: DeploymentConfig,
  credential: KeyCredential | TokenCredential,
  scopes: readonly string[] | undefined,
  fetch?: typeof globalThis.fetch,
): ModelWire {
  // NOTE: require, not import(): the CommonJS build, as for the rest of the app's packages.
  const openai = require("openai") as OpenAiModule;
  const apiKey =
    "getToken" in credential
      ? async () => {
          const token = await credential.getToken([...(scopes ?? [FOUNDRY_SCOPE])]);
          if (!token) throw new Error("no token for the model's scope");
          return token.token;
        }
      : async () => credential.key;
  const client = new openai.OpenAI({
    baseURL: deployment.endpoint,
    apiKey,
    maxRetries: 0,
    timeout: CLIENT_TIMEOUT_MS,
    ...(fetch ? { fetch } : {}),
  });
  return {
    api: "openai-v1",
    async chat(body: ChatCompletionsBody, { headers, signal, stream }) {
      try {
        const response = await client.chat.completions.create(body as never, { headers, signal }).asResponse();
        return await answerOf(response, stream);
      } catch (error) {
        return failureOf(openai, error);
      }
    },
    async info(signal) {
      try {
        const response = await client.models.retrieve(deployment.model, { signal }).asResponse();
        const answer = await answerOf(response, false);
        const model = answer.body as { id?: unknown; owned_by?: unknown } | null;
        // The v1 API's model object, in the Model Inference API's words.
        return {
          ...answer,
          body: { model_name: model?.id, model_type: "chat-completions", model_provider_name: typeof model?.owned_by === "string" ? model.owned_by : "" },
        };
      } catch (error) {
        return failureOf(openai, error);
      }
    },
  };
}

async function answerOf(response: Response, stream: boolean): Promise<WireAnswer> {
  const headers = lowerCaseHeaders(response.headers);
  if (stream) return { status: response.status, headers, ...(response.body ? { stream: Readable.fromWeb(response.body as never) } : {}) };
  const text = await response.text();
  try {
    return { status: response.status, headers, body: JSON.parse(text) };
  } catch {
    throw new ModelError({ kind: "protocol", status: 502, code: "bad_upstream_response", message: "The model's answer is not valid JSON." });
  }
}

/**
 * The client throws for every status but 2xx: that is an answer like any other, given back as the
 * status, headers and body the port reads errors from. A failure before any answer (the connection,
 * the credential, the signal) is thrown as what caused it, which the port knows how to name.
 */
function failureOf(openai: OpenAiModule, error: unknown): WireAnswer {
  if (error instanceof openai.APIError && typeof error.status === "number" && error.headers) {
    const body = error.error === undefined ? messageWithoutStatus(error.message) : { error: error.error };
    return { status: error.status, headers: lowerCaseHeaders(error.headers as unknown as Iterable<[string, string]>), body };
  }
  if (error instanceof openai.APIConnectionTimeoutError) {
    throw Object.assign(new Error("The model did not answer in time."), { code: "ETIMEDOUT" });
  }
  if (error instanceof openai.OpenAIError && (error as { cause?: unknown }).cause !== undefined) throw (error as { cause: unknown }).cause;
  throw error;
}

/** A body that was not JSON comes back inside the client's message, after the status. */
function messageWithoutStatus(message: string): string {
  return message.replace(/^\d{3} /, "");
}
