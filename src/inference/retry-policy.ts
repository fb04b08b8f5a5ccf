import type { ModelError } from "../lib/model-error.js";

/** Statuses worth asking again: the model or its front door was busy or briefly broken. */
const RETRYABLE_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

/**
 * Whether a failed attempt may be repeated: throttling and server failures, and a connection that
 * failed before any answer. Never the caller's mistakes, a content filter, our credentials being
 * refused, or our own deadline.
 */
export function isRetryable(error: ModelError): boolean {
  if (error.kind === "network") return error.code === "upstream_unreachable";
  if (error.kind !== "upstream") return false;
  return RETRYABLE_STATUSES.has(error.status) && error.code !== "content_filter";
}

/** Exponential backoff with full jitter: up to base * 2^attempt, at least a tenth of it. */
export function backoffMs(attempt: number, baseMs: number, random: () => number = Math.random): number {
  const ceiling = baseMs * 2 ** attempt;
  return Math.round(ceiling * (0.1 + 0.9 * random()));
}
