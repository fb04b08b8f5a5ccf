import { setTimeout as sleep } from "node:timers/promises";
import { telemetry } from "../telemetry/telemetry.js";
import { ModelError, isModelError } from "./model-error.js";
import type { ModelCallOptions, ModelPort } from "./model-port.js";
import { backoffMs, isRetryable } from "./retry-policy.js";
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionsBody, ModelInfo } from "./wire.js";

export interface RetryOptions {
  /** Attempts after the first. */
  maxRetries: number;
  /** Base of the exponential backoff. */
  baseDelayMs: number;
  /** The whole call's budget, all attempts and waits included. */
  budgetMs: number;
}

/**
 * The one retry loop (the SDK's is off): a failed attempt that may be repeated is, after the model's
 * Retry-After when it fits the remaining budget, or a jittered backoff. A Retry-After longer than
 * the budget is answered at once. Streams are retried only until the model accepted the request,
 * never after a byte reached the caller.
 */
export class RetryingModelPort implements ModelPort {
  readonly alias: string;

  constructor(
    private readonly inner: ModelPort,
    private readonly options: RetryOptions,
  ) {
    this.alias = inner.alias;
  }

  complete(body: ChatCompletionsBody, options: ModelCallOptions = {}): Promise<ChatCompletion> {
    return this.#withRetries((attempt) => this.inner.complete(body, attempt), options);
  }

  stream(body: ChatCompletionsBody, options: ModelCallOptions = {}): Promise<AsyncIterable<ChatCompletionChunk>> {
    return this.#withRetries((attempt) => this.inner.stream(body, attempt), options);
  }

  info(options?: { signal?: AbortSignal }): Promise<ModelInfo> {
    return this.inner.info(options);
  }

  async #withRetries<T>(call: (options: ModelCallOptions) => Promise<T>, callerOptions: ModelCallOptions): Promise<T> {
    // The whole call's deadline, attempts, waits and the rest of a stream included.
    const deadline = Math.min(callerOptions.deadlineAt ?? Number.POSITIVE_INFINITY, Date.now() + this.options.budgetMs);
    const options = { ...callerOptions, deadlineAt: deadline };
    for (let attempt = 0; ; attempt++) {
      try {
        return await call(options);
      } catch (error) {
        if (!isModelError(error) || !isRetryable(error) || options.signal?.aborted) throw error;
        const remaining = deadline - Date.now();
        const wait = error.retryAfterMs ?? backoffMs(attempt, this.options.baseDelayMs);
        if (error.status === 429 && error.retryAfterMs !== undefined && error.retryAfterMs > remaining) throw error;
        if (attempt >= this.options.maxRetries || wait >= remaining) {
          // With no retry made the model's own answer stands; after retries, the caller hears "unavailable".
          throw attempt === 0 ? error : exhausted(error, attempt + 1, wait);
        }
        telemetry().event("retry", { "app.deployment.alias": this.alias, "app.retry.attempt": attempt + 2, "app.retry.wait_ms": wait, "error.type": error.code });
        await sleep(wait, undefined, { signal: options.signal }).catch(() => {
          throw error;
        });
      }
    }
  }
}

/** What the caller hears after the last attempt: throttling stays a 429; anything else is unavailable. */
function exhausted(last: ModelError, attempts: number, wait: number): ModelError {
  if (last.status === 429) return last;
  return new ModelError({
    kind: "upstream",
    status: 503,
    code: "upstream_unavailable",
    message: `The model is unavailable (${attempts} ${attempts === 1 ? "attempt" : "attempts"}).`,
    retryAfterMs: last.retryAfterMs ?? Math.max(1_000, wait),
  });
}
