import type { ModelError } from "../inference/index.js";
import { HttpProblem } from "./problem.js";

/**
 * What a caller is told when the model call failed. Caller mistakes the model reported (400, 422,
 * content filter) keep the model's code and message; upstream trouble becomes a gateway status, and
 * the model refusing *our* credentials is never shown as the caller's 401.
 */
export function modelErrorProblem(error: ModelError): HttpProblem {
  const retryHeaders = error.retryAfterMs !== undefined ? retryAfter(error.retryAfterMs) : {};
  const param = error.param ? { param: error.param } : {};
  switch (error.kind) {
    case "timeout":
      return new HttpProblem(504, "upstream_timeout", "Gateway Timeout", error.message);
    case "credential":
      return new HttpProblem(503, error.code, "Service Unavailable", error.message, { "retry-after": "30" });
    case "internal":
      return new HttpProblem(500, "internal_error", "Internal Server Error", error.message);
    case "aborted":
      return new HttpProblem(499, "aborted", "Client Closed Request", error.message);
    case "network":
    case "protocol":
      return new HttpProblem(502, error.code, "Bad Gateway", error.message);
    case "upstream":
      break;
  }
  const { status } = error;
  if (status === 401 || status === 403) {
    return new HttpProblem(502, "upstream_auth_failed", "Bad Gateway", "The model endpoint refused this app's credentials.");
  }
  if (status === 429) {
    return new HttpProblem(429, error.code === "429" ? "rate_limited" : error.code, "Too Many Requests", error.message, retryHeaders);
  }
  if (status === 408 || status === 504) return new HttpProblem(504, "upstream_timeout", "Gateway Timeout", error.message);
  if (status === 503) return new HttpProblem(503, "upstream_unavailable", "Service Unavailable", error.message, retryHeaders);
  if (status >= 500 || status === 404) return new HttpProblem(502, "upstream_error", "Bad Gateway", error.message);
  return new HttpProblem(status, error.code, status === 400 ? "Bad Request" : "Unprocessable Request", error.message, {}, param);
}

function retryAfter(ms: number): Record<string, string> {
  return { "retry-after": String(Math.max(1, Math.ceil(ms / 1000))), "retry-after-ms": String(ms) };
}
