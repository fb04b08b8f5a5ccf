/**
 * Every problem code this app answers with, its status and what it means: the one list that
 * docs/errors.md and the OpenAPI descriptions are checked against (a test reads both). Codes the
 * model itself gives for a request it refused (400, 422, 429) are passed on as they are and are not
 * listed here: see `MODEL_CODES`.
 */
export const PROBLEM_CATALOG = {
  invalid_request: { status: 400, title: "Bad Request", meaning: "A field, header or value the contract does not accept; `param` names it." },
  invalid_json: { status: 400, title: "Bad Request", meaning: "The body is empty, not JSON, or nested deeper than 64 levels." },
  model_not_found: { status: 400, title: "Bad Request", meaning: "`model` names no configured deployment; the detail lists those there are." },
  content_filtered: {
    status: 400,
    title: "Content Filtered",
    meaning: "The model's content filter blocked the prompt (app routes; drop-in routes keep the model's `content_filter`).",
  },
  extra_parameters_not_allowed: {
    status: 400,
    title: "Bad Request",
    meaning:
      "`/api/v1` only, with Mistral's own fields in the body: another field neither API defines, without `extra-parameters: pass-through` (or `drop`); elsewhere the model answers this itself.",
  },
  request_exceeds_quota: { status: 400, title: "Bad Request", meaning: "The request alone would use more tokens than a minute's budget allows." },
  unauthorized: { status: 401, title: "Unauthorized", meaning: "No caller key, or a wrong one." },
  invalid_token: {
    status: 401,
    title: "Unauthorized",
    meaning: "An Entra ID access token that is not for this API: expired, another audience, issuer or tenant, or a bad signature.",
  },
  missing_role: { status: 403, title: "Forbidden", meaning: "A valid access token of a user without the app role that grants chat (`ENTRA_CHAT_ROLE`)." },
  job_not_found: {
    status: 404,
    title: "Not Found",
    meaning: "No job of this caller has this id: it never existed, expired, or is another caller's (the same answer for all three).",
  },
  method_not_allowed: { status: 405, title: "Method Not Allowed", meaning: "The route does not answer this method; `Allow` lists those it does." },
  request_in_progress: {
    status: 409,
    title: "Conflict",
    meaning: "The first request with this `Idempotency-Key` is still running; ask again after `Retry-After`.",
  },
  job_cancelled: { status: 409, title: "Conflict", meaning: "The job was cancelled (`DELETE`) before it finished; it has no result." },
  job_finished: { status: 409, title: "Conflict", meaning: "The job has finished, so it cannot be cancelled; its result stays readable until it expires." },
  payload_too_large: { status: 413, title: "Payload Too Large", meaning: "The body, one message or the number of messages is over the limit." },
  unsupported_media_type: { status: 415, title: "Unsupported Media Type", meaning: "The body is not `application/json`." },
  idempotency_key_reused: { status: 422, title: "Unprocessable Content", meaning: "This `Idempotency-Key` was used with another request body." },
  quota_exceeded: {
    status: 429,
    title: "Too Many Requests",
    meaning: "The caller's own requests or tokens per minute are used up; retry after `Retry-After`.",
  },
  deployment_busy: { status: 429, title: "Too Many Requests", meaning: "The deployment's budget, shared by all callers, is used up for this minute." },
  rate_limited: { status: 429, title: "Too Many Requests", meaning: "The model throttled the request; retry after `Retry-After`." },
  aborted: { status: 499, title: "Client Closed Request", meaning: "The caller went away before the answer was ready." },
  internal_error: { status: 500, title: "Internal Server Error", meaning: "A failure inside this app; it is logged with the request id." },
  job_abandoned: {
    status: 500,
    title: "Internal Server Error",
    meaning: "Every run of the job was cut off (`JOB_MAX_ATTEMPTS` workers died on it, or its message could not be processed); submit it again.",
  },
  bad_upstream_response: { status: 502, title: "Bad Gateway", meaning: "The model answered something unusable: no choices, no event stream, invalid JSON." },
  invalid_model_output: { status: 502, title: "Bad Gateway", meaning: "In JSON mode, the model's answer is not JSON or does not match the caller's schema." },
  upstream_auth_failed: { status: 502, title: "Bad Gateway", meaning: "The model refused this app's credentials (never shown as the caller's 401)." },
  upstream_error: { status: 502, title: "Bad Gateway", meaning: "The model failed (5xx, or 404 for a missing deployment)." },
  upstream_unreachable: { status: 502, title: "Bad Gateway", meaning: "The model endpoint could not be reached." },
  upstream_stream_broken: { status: 502, title: "Bad Gateway", meaning: "The connection to the model broke during a streamed answer." },
  upstream_stream_incomplete: { status: 502, title: "Bad Gateway", meaning: "The model's stream ended before `[DONE]`." },
  upstream_unavailable: {
    status: 503,
    title: "Service Unavailable",
    meaning: "The deployment is down or its circuit is open (502 on /api/info when no deployment answers); retry after `Retry-After`.",
  },
  token_keys_unavailable: {
    status: 503,
    title: "Service Unavailable",
    meaning: "The issuer's signing keys are out of reach, so access tokens cannot be checked; keys still work.",
  },
  caller_keys_unavailable: {
    status: 503,
    title: "Service Unavailable",
    meaning: "The caller keys cannot be read (an unresolved Key Vault reference); readiness names it.",
  },
  idempotency_unavailable: {
    status: 503,
    title: "Service Unavailable",
    meaning: "`Idempotency-Key`s cannot be checked (their table cannot be reached); the request was not run.",
  },
  jobs_unavailable: {
    status: 503,
    title: "Service Unavailable",
    meaning: "The jobs' queue, table or container cannot be reached; nothing was queued (a `POST`) or read (a `GET`).",
  },
  quota_unavailable: { status: 503, title: "Service Unavailable", meaning: "The quota counters cannot be reached; quotas fail closed." },
  model_credential_unavailable: {
    status: 503,
    title: "Service Unavailable",
    meaning: "This app cannot get its credential for the model; readiness names the cause.",
  },
  upstream_timeout: {
    status: 504,
    title: "Gateway Timeout",
    meaning: "The answer did not finish within the deadline (the app's, or the caller's `x-request-timeout-ms`).",
  },
} as const satisfies Record<string, { status: number; title: string; meaning: string }>;

export type ProblemCode = keyof typeof PROBLEM_CATALOG;

/** Statuses whose code is the model's own when the model refused the request. */
export const MODEL_CODES = { statuses: [400, 422, 429], meaning: "The model's own code and message, e.g. `content_filter` on the drop-in routes." } as const;

/** The catalog entry for a code, if it is one of ours. */
export function catalogEntry(code: string): (typeof PROBLEM_CATALOG)[ProblemCode] | undefined {
  return Object.hasOwn(PROBLEM_CATALOG, code) ? PROBLEM_CATALOG[code as ProblemCode] : undefined;
}
