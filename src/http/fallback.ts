import type { HttpRequest } from "@azure/functions";

/**
 * Whether the caller lets another deployment answer when the one it asked for is down:
 * `x-allow-fallback: true`. Off by default, since the fallback is usually a smaller model.
 */
export function fallbackAllowed(request: HttpRequest): boolean {
  return request.headers.get("x-allow-fallback")?.trim().toLowerCase() === "true";
}
