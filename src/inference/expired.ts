import { ModelError } from "../lib/model-error.js";
import type { ModelCallOptions } from "./model-port.js";

/**
 * The error for a call that must not start, or go on, because its request's time is up: the
 * request's deadline (`deadlineAt`) passed, or its signal fired (a caller's deadline is a timeout,
 * anything else the caller leaving). Undefined while there is time. Never the deployment's fault.
 */
export function expiredCall(options: ModelCallOptions, now: number = Date.now()): ModelError | undefined {
  const signal = options.signal;
  const timedOut =
    (options.deadlineAt !== undefined && options.deadlineAt <= now) ||
    (signal?.aborted && (signal.reason as { name?: string } | undefined)?.name === "TimeoutError");
  if (timedOut) {
    return new ModelError({ kind: "timeout", status: 504, code: "upstream_timeout", message: "The answer did not finish in time.", blame: "caller" });
  }
  if (signal?.aborted) return new ModelError({ kind: "aborted", status: 499, code: "aborted", message: "The request was cancelled." });
  return undefined;
}
