import { ModelError } from "./model-error.js";

/**
 * One upstream call's cancellation: the caller's signal plus our own timeout. `failure()` tells which
 * of the two ended the call, so the caller gets `upstream_timeout` or `aborted`, not a generic error.
 */
export class CallSignal {
  readonly #controller = new AbortController();
  readonly #timer: NodeJS.Timeout;
  readonly #callerSignal: AbortSignal | undefined;
  readonly #onCallerAbort = () => this.#controller.abort(new Error("aborted by caller"));
  #timedOut = false;

  constructor(timeoutMs: number, callerSignal?: AbortSignal) {
    this.#callerSignal = callerSignal;
    this.#timer = setTimeout(() => {
      this.#timedOut = true;
      this.#controller.abort(new Error("timed out"));
    }, timeoutMs);
    if (callerSignal?.aborted) this.#onCallerAbort();
    else callerSignal?.addEventListener("abort", this.#onCallerAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The error to report when the call failed because this signal fired, else undefined. */
  failure(): ModelError | undefined {
    if (this.#timedOut) {
      return new ModelError({
        kind: "timeout",
        status: 504,
        code: "upstream_timeout",
        message: "The model did not answer in time.",
      });
    }
    if (this.#controller.signal.aborted) {
      return new ModelError({ kind: "aborted", status: 499, code: "aborted", message: "The request was cancelled." });
    }
    return undefined;
  }

  /** Ends the call's watch: the timer stops and the caller's signal no longer reaches the call. */
  dispose(): void {
    clearTimeout(this.#timer);
    this.#callerSignal?.removeEventListener("abort", this.#onCallerAbort);
  }

  /** Aborts a call that is still running (the consumer stopped early), releasing its upstream socket. */
  abort(): void {
    this.dispose();
    if (!this.#controller.signal.aborted) this.#controller.abort(new Error("stopped by the consumer"));
  }
}
