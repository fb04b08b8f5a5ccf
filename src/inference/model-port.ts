import type { ChatCompletion, ChatCompletionChunk, ChatCompletionsBody, ExtraParametersMode, ModelInfo, WireUsage } from "./wire.js";

/**
 * Counts model calls against quotas: asked before each call to a deployment (after fallback chose
 * it, before retries), told the usage after. Refusals are thrown and reach the caller as they are.
 */
export interface ModelMeter {
  admit(alias: string, body: ChatCompletionsBody, signal?: AbortSignal): Promise<MeterTicket>;
}

export interface MeterTicket {
  /**
   * The call is over. `usage` is what the model reported; without it (a failed call, a stream cut
   * short) `streamedChunks` says how much of an answer was sent, each chunk about one token.
   */
  settle(usage: WireUsage | undefined, streamedChunks: number): void;
}

export interface ModelCallOptions {
  /** Cancels the upstream call: the caller went away or its own deadline passed. */
  signal?: AbortSignal;
  /** How the upstream treats body fields its API does not define (the `extra-parameters` header). */
  extraParameters?: ExtraParametersMode;
  /** When the whole call must be over (epoch ms): no attempt, and no stream, runs past it. */
  deadlineAt?: number;
  /** The caller's quotas, when they are enforced. */
  meter?: ModelMeter;
  /** Who asked, so that one caller's failures alone cannot open a deployment's circuit for everyone. */
  callerId?: string;
  /** Where each failed attempt is reported (the invocation's log), with telemetry off too. */
  warn?: (message: string) => void;
}

/**
 * One model deployment, as the rest of the app sees it. Every method is bounded by the deployment's
 * timeout and by `signal`, and fails only with a ModelError.
 */
export interface ModelPort {
  readonly alias: string;
  complete(body: ChatCompletionsBody, options?: ModelCallOptions): Promise<ChatCompletion>;
  /**
   * Resolves once the upstream accepted the request (status 200, headers in), so failures before the
   * first byte can still become plain HTTP errors. Breaking out of the iteration aborts the upstream call.
   */
  stream(body: ChatCompletionsBody, options?: ModelCallOptions): Promise<AsyncIterable<ChatCompletionChunk>>;
  info(options?: { signal?: AbortSignal }): Promise<ModelInfo>;
}
