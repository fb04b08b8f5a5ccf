import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import type { CorsConfig } from "../config/types.js";

/** What a browser app may read from our answers beyond the safelisted headers. */
const EXPOSED_HEADERS = ["x-request-id", "x-model-deployment", "retry-after", "x-ratelimit-remaining-requests", "x-ratelimit-remaining-tokens"].join(", ");
/** How long a browser may reuse a preflight answer (Chromium caps it at 2 h). */
const PREFLIGHT_MAX_AGE_S = "600";
const HEADER_LIST = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+(\s*,\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+)*$/;

export function isPreflight(request: HttpRequest): boolean {
  return request.method === "OPTIONS" && request.headers.has("origin") && request.headers.has("access-control-request-method");
}

function allowedOrigin(origin: string | null, cors: CorsConfig): string | undefined {
  if (!origin) return undefined;
  if (cors.origins === "*") return "*";
  const normalized = origin.toLowerCase();
  return cors.origins.includes(normalized) ? normalized : undefined;
}

/**
 * The answer to a preflight: 204 with the route's methods for an allowed origin asking for one of
 * them; 403 without CORS headers otherwise, so the browser refuses the call. Any request header is
 * allowed (SDKs add their own); which origins may call is what matters.
 */
export function preflightResponse(request: HttpRequest, cors: CorsConfig, methods: readonly string[]): HttpResponseInit {
  const origin = allowedOrigin(request.headers.get("origin"), cors);
  const method = request.headers.get("access-control-request-method") ?? "";
  if (!origin || !methods.includes(method)) return { status: 403, headers: { vary: "Origin" } };
  const requested = request.headers.get("access-control-request-headers")?.trim();
  return {
    status: 204,
    headers: {
      ...originHeaders(origin, cors),
      "access-control-allow-methods": methods.join(", "),
      ...(requested && HEADER_LIST.test(requested) ? { "access-control-allow-headers": requested } : {}),
      "access-control-max-age": PREFLIGHT_MAX_AGE_S,
    },
  };
}

/** The headers an actual (non-preflight) answer carries for an allowed origin; none otherwise. */
export function corsHeaders(request: HttpRequest, cors: CorsConfig): Record<string, string> {
  const origin = allowedOrigin(request.headers.get("origin"), cors);
  return origin ? { ...originHeaders(origin, cors), "access-control-expose-headers": EXPOSED_HEADERS } : {};
}

function originHeaders(origin: string, cors: CorsConfig): Record<string, string> {
  return {
    "access-control-allow-origin": origin,
    ...(origin === "*" ? {} : { vary: "Origin" }),
    ...(cors.allowCredentials ? { "access-control-allow-credentials": "true" } : {}),
  };
}
