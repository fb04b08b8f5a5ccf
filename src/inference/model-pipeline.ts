import { setTimeout as sleep } from "node:timers/promises";
import { managedStream } from "../lib/managed-stream.js";
import { isModelError, ModelError } from "../lib/model-error.js";
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionsBody, ModelInfo, WireUsage } from "../lib/wire.js";
import type { MeterTicket } from "../quotas/meter.js";
import { telemetry } from "../telemetry/telemetry.js";
import { type BreakerOptions, CircuitBreaker } from "./circuit-breaker.js";
import { expiredCall } from "./expired.js";
import type { ModelCallOptions, ModelPort } from "./model-port.js";
import { backoffMs, isRetryable } from "./retry-policy.js";

export interface PipelineOptions {
  /** Attempts after the first. */
  maxRetries: number;
  /** Base of the exponential backoff. */
  baseDelayMs: number;
  /** The whole call's budget, all attempts and waits (and a stream to its end) included. */
  budgetMs: number;
  breaker: BreakerOptions;
  now?: () => number;
}

/**
 * One deployment's model calls, in the order its policy applies, each step once:
 * 1. time left: no call starts after its request's deadline;
 * 2. quota admission against the caller's and the deployment's budgets (once per call, not per try);
 * 3. the circuit: while the deployment keeps failing, refuse at once with 503 and the time to wait;
 * 4. attempts through the adapter (one attempt deep), repeated for what is worth repeating, after the
 *    model's Retry-After when it fits the deadline or a jittered backoff; a stream only until the
 *    model accepted it, never once a byte may have reached the caller;
 * 5. the charge: the usage the model reported, after a JSON answer, or when a stream ends, fails or
 *    is abandoned (a stream cut short is charged for what was sent).
 */
export class ModelPipeline implements ModelPort {
  readonly alias: string;
  readonly api: ModelPort["api"];
  readonly breaker: CircuitBreaker;
  readonly #adapter: ModelPort;
  readonly #options: PipelineOptions;

  constructor(adapter: ModelPort, options: PipelineOptions) {
    this.alias = adapter.alias;
    this.api = adapter.api;
    this.#adapter = adapter;
    this.#options = options;
    this.breaker = new CircuitBreaker(options.breaker, options.now);
  }

  async complete(body: ChatCompletionsBody, options: ModelCallOptions = {}): Promise<ChatCompletion> {
    const ticket = await this.#admit(body, options);
    try {
      const completion = await this.#guarded(options, (attempt) => this.#adapter.complete(body, attempt));
      ticket?.settle(completion.usage, 0);
      return completion;
    } catch (error) {
      ticket?.settle(undefined, 0);
      throw error;
    }
  }

  /** A stream counts for the circuit once the model accepted it; what happens later is not the circuit's. */
  async stream(body: ChatCompletionsBody, options: ModelCallOptions = {}): Promise<AsyncIterable<ChatCompletionChunk>> {
    const ticket = await this.#admit(body, options);
    let chunks: AsyncIterable<ChatCompletionChunk>;
    try {
      chunks = await this.#guarded(options, (attempt) => this.#adapter.stream(body, attempt));
    } catch (error) {
      ticket?.settle(undefined, 0);
      throw error;
    }
    return ticket ? charged(chunks, ticket) : chunks;
  }

  info(options?: { signal?: AbortSignal }): Promise<ModelInfo> {
    return this.#adapter.info(options);
  }

  /** Steps 1 and 2: a deadline that passes while the quota store is asked is a timeout, not its raw abort. */
  async #admit(body: ChatCompletionsBody, options: ModelCallOptions): Promise<MeterTicket | undefined> {
    const expired = expiredCall(options);
    if (expired) throw expired;
    try {
      return await options.meter?.admit(this.alias, body, options.signal);
    } catch (error) {
      throw expiredCall(options) ?? error;
    }
  }

  /** Step 3 around step 4: the circuit hears the outcome of the whole call, retries included. */
  async #guarded<T>(options: ModelCallOptions, attempt: (options: ModelCallOptions) => Promise<T>): Promise<T> {
    const before = this.breaker.state;
    if (!this.breaker.allow()) {
      telemetry().event("breaker.rejected", { "app.deployment.alias": this.alias, "app.breaker.retry_after_ms": this.breaker.retryAfterMs() });
      throw new ModelError({
        kind: "upstream",
        status: 503,
        code: "upstream_unavailable",
        message: "The model deployment is failing; it is not being called for a short while.",
        retryAfterMs: this.breaker.retryAfterMs(),
      });
    }
    if (before !== "closed") telemetry().event("breaker.probe", { "app.deployment.alias": this.alias });
    try {
      const result = await this.#withRetries(options, attempt);
      this.breaker.success();
      return result;
    } catch (error) {
      if (isModelError(error) && error.blame === "deployment" && isOutage(error)) {
        this.breaker.failure(options.callerId);
        if (this.breaker.state === "open") telemetry().event("breaker.opened", { "app.deployment.alias": this.alias, "error.type": error.code });
      } else {
        // Neither health nor outage: a 4xx answered by the deployment is no proof of health either,
        // or a caller who can provoke 400s could keep clearing the count of a failing deployment.
        this.breaker.neutral();
      }
      throw error;
    }
  }

  /**
   * Step 4, the one retry loop (the SDK's is off). A Retry-After longer than the time left is
   * answered at once; with no retry made the model's own answer stands, after retries the caller
   * hears "unavailable" (throttling stays a 429).
   */
  async #withRetries<T>(callerOptions: ModelCallOptions, attempt: (options: ModelCallOptions) => Promise<T>): Promise<T> {
    const now = this.#options.now ?? Date.now;
    const deadline = Math.min(callerOptions.deadlineAt ?? Number.POSITIVE_INFINITY, now() + (callerOptions.budgetMs ?? this.#options.budgetMs));
    const options = { ...callerOptions, deadlineAt: deadline };
    for (let tries = 0; ; tries++) {
      try {
        return await attempt(options);
      } catch (error) {
        if (isModelError(error) && error.kind !== "aborted") {
          // Alias, status, code and attempt: never the endpoint or a key.
          options.warn?.(`Model call failed: deployment ${this.alias}, attempt ${tries + 1}, status ${error.status}, code ${error.code}.`);
        }
        if (!isModelError(error) || !isRetryable(error) || options.signal?.aborted) throw error;
        const remaining = deadline - now();
        const wait = error.retryAfterMs ?? backoffMs(tries, this.#options.baseDelayMs);
        if (error.status === 429 && error.retryAfterMs !== undefined && error.retryAfterMs > remaining) throw error;
        if (tries >= this.#options.maxRetries || wait >= remaining) throw tries === 0 ? error : exhausted(error, tries + 1, wait);
        telemetry().event("retry", { "app.deployment.alias": this.alias, "app.retry.attempt": tries + 2, "app.retry.wait_ms": wait, "error.type": error.code });
        await sleep(wait, undefined, { signal: options.signal }).catch(() => {
          throw error;
        });
      }
    }
  }
}

/**
 * The deployment's own failures that say it is unwell: 5xx, a broken connection or answer, its own
 * timeout. Not a 4xx (the deployment answered), nor anything the caller or this app caused, which
 * `blame` tells apart.
 */
function isOutage(error: ModelError): boolean {
  if (error.kind !== "upstream") return true;
  return error.status >= 500;
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

/** Step 5 for a stream: settled once, however it ends (done, failed, or abandoned unread). */
function charged(chunks: AsyncIterable<ChatCompletionChunk>, ticket: MeterTicket): AsyncIterable<ChatCompletionChunk> {
  let usage: WireUsage | undefined;
  /** Chunks that carried answer text or tool calls: about a token each. */
  let sent = 0;
  // However the stream ends, managedStream settles once; a consumer that stops early returns the
  // model's stream through it, so its upstream connection is released too.
  return managedStream(
    chunks[Symbol.asyncIterator](),
    () => ticket.settle(usage, sent),
    (chunk) => {
      if (chunk.usage) usage = chunk.usage;
      if (chunk.choices.some((choice) => choice.delta?.content || choice.delta?.tool_calls)) sent += 1;
    },
  );
}
