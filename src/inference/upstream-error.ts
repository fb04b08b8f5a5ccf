import { ModelError } from "../lib/model-error.js";
import { safeText } from "../lib/safe-text.js";
import { retryAfterMs } from "./retry-after.js";

export interface UpstreamErrorResponse {
  status: number;
  header: (name: string) => string | undefined;
  /** Parsed JSON when the upstream sent JSON, else the raw text. */
  body: unknown;
}

/** Turns a non-2xx upstream answer into a ModelError, keeping the upstream's code and message. */
export function modelErrorFromResponse(response: UpstreamErrorResponse, secrets: readonly string[]): ModelError {
  const error = errorObject(response.body);
  const code = typeof error?.code === "string" && error.code !== "" ? error.code : codeForStatus(response.status);
  const rawMessage = typeof error?.message === "string" ? error.message : `The model endpoint answered ${response.status}.`;
  return new ModelError({
    kind: "upstream",
    status: response.status,
    code: safeText(code, secrets),
    message: safeText(rawMessage, secrets),
    retryAfterMs: retryAfterMs(response.header),
    param: typeof error?.param === "string" ? safeText(error.param, secrets) : null,
    type: typeof error?.type === "string" ? safeText(error.type, secrets) : null,
  });
}

function errorObject(body: unknown): Record<string, unknown> | undefined {
  let value = body;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  if (value && typeof value === "object" && "error" in value) {
    const error = (value as { error: unknown }).error;
    if (error && typeof error === "object") return error as Record<string, unknown>;
    if (typeof error === "string") return { message: error };
  }
  return undefined;
}

function codeForStatus(status: number): string {
  const names: Record<number, string> = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    408: "request_timeout",
    413: "payload_too_large",
    422: "unprocessable_entity",
    429: "rate_limited",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
  };
  return names[status] ?? `http_${status}`;
}
