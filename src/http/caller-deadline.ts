import type { HttpRequest } from "@azure/functions";
import { HttpProblem } from "../lib/problem.js";

/**
 * A caller that gives up sooner than we would (Logic Apps waits 120 s and then retries) says so with
 * `x-request-timeout-ms`; the model call then ends, with a 504, before the caller leaves.
 */
export function callerDeadline(request: HttpRequest): AbortSignal | undefined {
  const value = request.headers.get("x-request-timeout-ms");
  if (value === null) return undefined;
  const ms = Number(value);
  if (!/^\d+$/.test(value.trim()) || ms < 1_000 || ms > 230_000) {
    throw new HttpProblem({
      status: 400,
      code: "invalid_request",
      title: "Bad Request",
      detail: "x-request-timeout-ms must be a whole number of milliseconds from 1000 to 230000.",
      extensions: {
        param: "x-request-timeout-ms",
        rule: "range",
      },
    });
  }
  return AbortSignal.timeout(ms);
}
