import type { InvocationContext } from "@azure/functions";
import type { HttpProblem } from "../lib/problem.js";
import { safeText } from "../lib/safe-text.js";

/**
 * Writes a failed request to the invocation's log, so it is seen with telemetry off too: an error
 * inside this app with its cause's stack (messages through safeText: no endpoint, no secret), a
 * failure of the model as a warning; a caller's own mistake (4xx) is the caller's to read, not ours.
 */
export function logProblem(problem: HttpProblem, log: Pick<InvocationContext, "error" | "warn">, when = "Request failed"): void {
  if (problem.status < 500) return;
  if (problem.code === "internal_error") {
    log.error(`${when}: internal_error.`, describe(problem.cause));
    return;
  }
  log.warn(`${when}: ${problem.status} ${problem.code}: ${safeText(problem.detail)}`);
}

/** The message through safeText; the stack's frames as they are (our code's names and files, no data). */
function describe(cause: unknown): string {
  if (!(cause instanceof Error)) return cause === undefined ? "no cause" : "a non-error value was thrown";
  const frames = (cause.stack ?? "")
    .split("\n")
    .filter((line) => /^\s+at /.test(line))
    .slice(0, 12);
  return [`${cause.name}: ${safeText(cause.message)}`, ...frames].join("\n");
}
