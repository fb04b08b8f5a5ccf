import type { DeploymentConfig } from "../config/index.js";
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionsBody, ExtraParametersMode, ModelInfo } from "../lib/wire.js";
import type { ModelMeter } from "../quotas/meter.js";

export interface ModelCallOptions {
  /** Cancels the upstream call: the caller went away or its own deadline passed. */
  signal?: AbortSignal;
  /** How the upstream treats body fields its API does not define (the `extra-parameters` header). */
  extraParameters?: ExtraParametersMode;
  /** When the whole call must be over (epoch ms): no attempt, and no stream, runs past it. */
  deadlineAt?: number;
  /**
   * One call's budget, all attempts and a stream to its end, when it is not the deployment's
   * (MODEL_TIMEOUT_MS): a queued job's calls may take as long as the job.
   */
  budgetMs?: number;
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
  /** The API the deployment is reached through, for readiness and telemetry. */
  readonly api: DeploymentConfig["api"];
  complete(body: ChatCompletionsBody, options?: ModelCallOptions): Promise<ChatCompletion>;
  /**
   * Resolves once the upstream accepted the request (status 200, headers in), so failures before the
   * first byte can still become plain HTTP errors. Breaking out of the iteration aborts the upstream call.
   */
  stream(body: ChatCompletionsBody, options?: ModelCallOptions): Promise<AsyncIterable<ChatCompletionChunk>>;
  info(options?: { signal?: AbortSignal }): Promise<ModelInfo>;
}
