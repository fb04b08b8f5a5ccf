import { isModelError, type ModelError } from "./model-error.js";
import { HttpProblem } from "./problem.js";

/**
 * The one mapper from an error to what the caller is told: a problem as it is; a model error by the
 * rules below, with a filtered prompt named `content_filtered` on the app routes (the drop-in routes
 * keep the model's own `content_filter`, as its SDKs expect); anything else a 500 that shows nothing
 * internal and keeps the error as its `cause`, for the log.
 */
export function toProblem(error: unknown, options: { route?: "app" | "dropin" } = {}): HttpProblem {
  if (error instanceof HttpProblem) return error;
  if (!isModelError(error)) {
    return new HttpProblem({
      status: 500,
      code: "internal_error",
      detail: "The request failed unexpectedly; quote request_id when reporting it.",
      cause: error,
    });
  }
  const problem = modelErrorProblem(error);
  if (options.route !== "app" || problem.code !== "content_filter") return problem;
  return new HttpProblem({
    status: 400,
    code: "content_filtered",
    detail: problem.detail,
    headers: problem.headers,
    extensions: problem.extensions,
    cause: error,
  });
}

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
      return new HttpProblem({ status: 504, code: "upstream_timeout", title: "Gateway Timeout", detail: error.message, cause: error });
    case "credential":
      return new HttpProblem({
        status: 503,
        code: error.code,
        title: "Service Unavailable",
        detail: error.message,
        headers: { "retry-after": "30" },
        cause: error,
      });
    case "internal":
      return new HttpProblem({ status: 500, code: "internal_error", title: "Internal Server Error", detail: error.message, cause: error });
    case "aborted":
      return new HttpProblem({ status: 499, code: "aborted", title: "Client Closed Request", detail: error.message, cause: error });
    case "network":
    case "protocol":
      return new HttpProblem({ status: 502, code: error.code, title: "Bad Gateway", detail: error.message, cause: error });
    case "upstream":
      break;
  }
  const { status } = error;
  if (status === 401 || status === 403) {
    return new HttpProblem({ status: 502, code: "upstream_auth_failed", title: "Bad Gateway", detail: "The model endpoint refused this app's credentials." });
  }
  if (status === 429) {
    return new HttpProblem({
      status: 429,
      code: error.code === "429" ? "rate_limited" : error.code,
      title: "Too Many Requests",
      detail: error.message,
      headers: retryHeaders,
      cause: error,
    });
  }
  if (status === 408 || status === 504)
    return new HttpProblem({ status: 504, code: "upstream_timeout", title: "Gateway Timeout", detail: error.message, cause: error });
  if (status === 503)
    return new HttpProblem({
      status: 503,
      code: "upstream_unavailable",
      title: "Service Unavailable",
      detail: error.message,
      headers: retryHeaders,
      cause: error,
    });
  if (status >= 500 || status === 404)
    return new HttpProblem({ status: 502, code: "upstream_error", title: "Bad Gateway", detail: error.message, cause: error });
  return new HttpProblem({
    status,
    code: error.code,
    title: status === 400 ? "Bad Request" : "Unprocessable Request",
    detail: error.message,
    extensions: param,
    cause: error,
  });
}

function retryAfter(ms: number): Record<string, string> {
  return { "retry-after": String(Math.max(1, Math.ceil(ms / 1000))), "retry-after-ms": String(ms) };
}
