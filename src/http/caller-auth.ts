import { createHash, timingSafeEqual } from "node:crypto";
import type { HttpRequest } from "@azure/functions";
import type { CallerKeyConfig } from "../config/index.js";

export interface Caller {
  /** Stable id of the caller, e.g. `key:dev`; what quotas and telemetry are keyed by. */
  id: string;
}

/** The key as SDKs send it: `api-key` (Azure clients) or `Authorization: Bearer` (OpenAI-style clients). */
export function presentedKey(request: HttpRequest): string | undefined {
  const apiKey = request.headers.get("api-key");
  if (apiKey) return apiKey.trim();
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "");
  return bearer?.[1];
}

/**
 * The caller a request proves to be, or undefined. Keys are compared as SHA-256 digests in constant
 * time, against every configured key, so timing tells nothing about which one nearly matched.
 */
export function authenticateCaller(request: HttpRequest, keys: readonly CallerKeyConfig[]): Caller | undefined {
  const key = presentedKey(request);
  if (!key) return undefined;
  const digest = createHash("sha256").update(key, "utf8").digest();
  let match: CallerKeyConfig | undefined;
  for (const candidate of keys) {
    if (timingSafeEqual(digest, candidate.sha256) && !match) match = candidate;
  }
  return match ? { id: `key:${match.name}` } : undefined;
}
