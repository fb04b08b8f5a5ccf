import { telemetry } from "../telemetry/telemetry.js";
import { CircuitBreaker, type BreakerOptions } from "./circuit-breaker.js";
import { ModelError, isModelError } from "./model-error.js";
import type { ModelCallOptions, ModelPort } from "./model-port.js";
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionsBody, ModelInfo } from "./wire.js";

/**
 * Skips a deployment that keeps failing: while its circuit is open, calls fail at once with a 503
 * and the time left to wait, instead of waiting out timeouts and retries. The state is per
 * instance: each instance learns a deployment's health from its own calls within seconds, and
 * sharing it would put a storage round trip on every call.
 */
export class BreakerModelPort implements ModelPort {
  readonly alias: string;
  readonly breaker: CircuitBreaker;

  constructor(
    private readonly inner: ModelPort,
    options: BreakerOptions,
    now?: () => number,
  ) {
    this.alias = inner.alias;
    this.breaker = new CircuitBreaker(options, now);
  }

  complete(body: ChatCompletionsBody, options?: ModelCallOptions): Promise<ChatCompletion> {
    return this.#guard(() => this.inner.complete(body, options), options?.callerId);
  }

  /** A stream counts as a success once the model accepted it; what happens later is not the circuit's. */
  stream(body: ChatCompletionsBody, options?: ModelCallOptions): Promise<AsyncIterable<ChatCompletionChunk>> {
    return this.#guard(() => this.inner.stream(body, options), options?.callerId);
  }

  info(options?: { signal?: AbortSignal }): Promise<ModelInfo> {
    return this.inner.info(options);
  }

  async #guard<T>(call: () => Promise<T>, callerId: string | undefined): Promise<T> {
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
      const result = await call();
      this.breaker.success();
      return result;
    } catch (error) {
      if (isModelError(error) && error.blame === "deployment" && isOutage(error)) {
        this.breaker.failure(callerId);
        if (this.breaker.state === "open") telemetry().event("breaker.opened", { "app.deployment.alias": this.alias, "error.type": error.code });
      } else {
        // Neither health nor outage: a 4xx answered by the deployment is no proof of health either,
        // or a caller who can provoke 400s could keep clearing the count of a failing deployment.
        this.breaker.neutral();
      }
      throw error;
    }
  }
}

/**
 * The deployment's own failures that say it is unwell: 5xx, a broken connection or answer, its own
 * timeout. Not a 4xx (the deployment answered, so it is up), nor anything the caller or this app
 * caused, which `blame` tells apart.
 */
function isOutage(error: ModelError): boolean {
  if (error.kind !== "upstream") return true;
  return error.status >= 500;
}
