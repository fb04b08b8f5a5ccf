import { ModelError } from "../lib/model-error.js";

/** A deadline this close to the timeout still gave the deployment its whole time. */
const DEADLINE_SLACK_MS = 1_000;

/**
 * One upstream call's cancellation: the caller's signal plus our own timer, which can be re-armed
 * (an idle timer between stream chunks). `failure()` tells what ended the call: our timer, or a
 * caller deadline (a TimeoutError reason), is `upstream_timeout`; anything else from the caller is
 * `aborted`.
 */
export class CallSignal {
  readonly #controller = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  readonly #callerSignal: AbortSignal | undefined;
  readonly #onCallerAbort = () => this.#controller.abort(new Error("aborted by caller"));
  #timedOut = false;
  #armedMs = -1;
  /** Whether the timer runs for the deployment's whole timeout, rather than to the request's deadline. */
  #fullTimeout = true;
  readonly #deadlineAt: number;

  /** `deadlineAt` (epoch ms) caps every arming of the timer: the call never outlives it. */
  constructor(timeoutMs: number, callerSignal?: AbortSignal, deadlineAt = Number.POSITIVE_INFINITY) {
    this.#callerSignal = callerSignal;
    this.#deadlineAt = deadlineAt;
    this.rearm(timeoutMs);
    if (callerSignal?.aborted) this.#onCallerAbort();
    else callerSignal?.addEventListener("abort", this.#onCallerAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Restarts our timer: the call now has `timeoutMs` from here. */
  rearm(timeoutMs: number): void {
    const left = this.#deadlineAt - Date.now();
    const ms = Math.max(0, Math.min(timeoutMs, left));
    this.#fullTimeout = left >= timeoutMs - DEADLINE_SLACK_MS;
    // A stream re-arms on every chunk, nearly always with the same delay: restart the timer in place.
    if (this.#timer && ms === this.#armedMs) {
      this.#timer.refresh();
      return;
    }
    clearTimeout(this.#timer);
    this.#armedMs = ms;
    this.#timer = setTimeout(() => {
      this.#timedOut = true;
      this.#controller.abort(new Error("timed out"));
    }, ms);
  }

  /** The error to report when the call failed because this signal fired, else undefined. */
  failure(): ModelError | undefined {
    const callerDeadline = (this.#callerSignal?.reason as { name?: string } | undefined)?.name === "TimeoutError";
    if (this.#timedOut || (this.#callerSignal?.aborted && callerDeadline)) {
      return new ModelError({
        kind: "timeout",
        status: 504,
        code: "upstream_timeout",
        message: "The model did not answer in time.",
        // Slow past its own timeout is the deployment's failure; a deadline that came sooner (the
        // caller's, or what was left of the request's) says nothing about the deployment.
        blame: this.#timedOut && this.#fullTimeout ? "deployment" : "caller",
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
    // Forgotten, not only cleared: refresh() would bring a cleared timer back.
    this.#timer = undefined;
    this.#callerSignal?.removeEventListener("abort", this.#onCallerAbort);
  }

  /** Aborts a call that is still running (the consumer stopped early), releasing its upstream socket. */
  abort(): void {
    this.dispose();
    if (!this.#controller.signal.aborted) this.#controller.abort(new Error("stopped by the consumer"));
  }
}
