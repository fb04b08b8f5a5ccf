import type { HttpResponseInit } from "@azure/functions";
import type { HttpProblem } from "../lib/problem.js";

/**
 * The error shape SDK clients parse (`@azure-rest/ai-inference`, `openai`, Mistral's):
 * `{"error": {"code", "message", "type", "param"}}`, used by the drop-in routes instead of problem+json.
 */
export function sdkErrorResponse(problem: HttpProblem, requestId: string): HttpResponseInit {
  return {
    status: problem.status,
    headers: { "content-type": "application/json", ...problem.headers },
    jsonBody: { error: sdkError(problem, requestId) },
  };
}

export function sdkError(problem: HttpProblem, requestId: string) {
  return {
    code: problem.code,
    message: problem.detail,
    type: errorType(problem.status),
    param: typeof problem.extensions.param === "string" ? problem.extensions.param : null,
    request_id: requestId,
  };
}

/** OpenAI's error types, which its SDK and the frameworks on it switch on. */
function errorType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}
