import { createHash } from "node:crypto";
import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import type { IdempotencyStore, StoredAnswer } from "../idempotency/idempotency-store.js";
import { HttpProblem } from "../lib/problem.js";
import { toProblem } from "../lib/to-problem.js";
import { problemResponse } from "./problem-response.js";
import { sdkErrorResponse } from "./sdk-error.js";

export const IDEMPOTENCY_HEADER = "idempotency-key";
/** Printable ASCII, at most 255 characters. */
const KEY = /^[\x20-\x7e]{1,255}$/;

/** The request's `Idempotency-Key`, checked; undefined when it sent none. */
export function idempotencyKey(request: HttpRequest): string | undefined {
  const key = request.headers.get(IDEMPOTENCY_HEADER);
  if (key === null) return undefined;
  if (!KEY.test(key)) {
    throw new HttpProblem({
      status: 400,
      code: "invalid_request",
      detail: "Idempotency-Key must be 1 to 255 printable ASCII characters.",
      extensions: { param: "Idempotency-Key", rule: "pattern" },
    });
  }
  return key;
}

/** A streamed request cannot be replayed: with a key it is refused rather than run unguarded. */
export function refuseStreamWithKey(request: HttpRequest): void {
  if (request.headers.has(IDEMPOTENCY_HEADER)) {
    throw new HttpProblem({
      status: 400,
      code: "invalid_request",
      detail: "A streamed answer cannot be replayed: send Idempotency-Key only with JSON answers (or use /api/chat/jobs).",
      extensions: { param: "Idempotency-Key", rule: "stream" },
    });
  }
}

export interface Idempotent {
  store: IdempotencyStore;
  callerId: string;
  /** The request's key (`idempotencyKey`); without one the request simply runs. */
  key: string | undefined;
  /** The route and the body as sent: the same key with anything else is a 422. */
  route: string;
  body: unknown;
  /** How a failure is answered on this route (problem+json, or the drop-in routes' SDK shape), so a replayed problem reads as the first one did. */
  errors: "problem" | "sdk";
  requestId: string;
}

/**
 * Runs `run` once per caller and key within the retention window. A retry with the same body gets the
 * first answer again, with `Idempotent-Replayed: true`; while the first is still running, a 409
 * `request_in_progress` with Retry-After; with another body, a 422 `idempotency_key_reused`.
 * What is kept: answers and the caller's own mistakes (2xx, 4xx). Not kept: throttling (429) and
 * failures of the model or this app (5xx), so the retry a client makes for those runs again; the key
 * is released for it.
 */
export async function idempotent(options: Idempotent, run: () => Promise<HttpResponseInit>): Promise<HttpResponseInit> {
  const { store, callerId, key } = options;
  if (key === undefined) return run();
  const fingerprint = createHash("sha256").update(options.route).update("\n").update(JSON.stringify(options.body)).digest("base64");
  const claim = await store.begin(callerId, key, fingerprint).catch(() => {
    throw unavailable();
  });
  if (claim.kind === "reused") {
    throw new HttpProblem({
      status: 422,
      code: "idempotency_key_reused",
      detail: "This Idempotency-Key was used with another request body; use a new key for a new request.",
      extensions: { param: "Idempotency-Key" },
    });
  }
  if (claim.kind === "running") {
    throw new HttpProblem({
      status: 409,
      code: "request_in_progress",
      detail: "The first request with this Idempotency-Key is still running; ask again after Retry-After.",
      headers: { "retry-after": String(claim.retryAfterSeconds) },
    });
  }
  if (claim.kind === "done") return replayed(claim.answer);
  let response: HttpResponseInit;
  try {
    response = await run();
  } catch (error) {
    // Kept as the route answers it, then thrown on: the handler wrapper logs and answers it as ever.
    await keepOrRelease(key, options, claim.etag, render(error, options));
    throw error;
  }
  await keepOrRelease(key, options, claim.etag, response);
  return response;
}

/** The answer goes out whether or not it could be kept: a key lost to storage only means a retry runs again. */
async function keepOrRelease(key: string, { store, callerId }: Idempotent, etag: string, response: HttpResponseInit): Promise<void> {
  const status = response.status ?? 200;
  const keep = status < 500 && status !== 429 && response.jsonBody !== undefined;
  await (keep ? store.finish(callerId, key, etag, stored(response)) : store.release(callerId, key, etag)).catch(() => undefined);
}

/** A failure as the route answers it: the handler wrapper's own mapping and shape. */
function render(error: unknown, { errors, requestId }: Idempotent): HttpResponseInit {
  return errors === "sdk" ? sdkErrorResponse(toProblem(error, { route: "dropin" }), requestId) : problemResponse(toProblem(error, { route: "app" }), requestId);
}

function stored(response: HttpResponseInit): StoredAnswer {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries((response.headers ?? {}) as Record<string, string>)) headers[name.toLowerCase()] = String(value);
  return { status: response.status ?? 200, headers, body: JSON.stringify(response.jsonBody ?? null) };
}

function replayed(answer: StoredAnswer): HttpResponseInit {
  const type = answer.headers["content-type"] ?? "application/json";
  return { status: answer.status, headers: { ...answer.headers, "content-type": type, "idempotent-replayed": "true" }, body: answer.body };
}

/** Without the keys' table, a keyed request cannot be made safe to retry: refused, not run unguarded. */
const unavailable = () =>
  new HttpProblem({
    status: 503,
    code: "idempotency_unavailable",
    detail: "Idempotency keys cannot be checked right now; try again shortly.",
    headers: { "retry-after": "5" },
  });
