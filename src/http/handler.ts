import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { safeText } from "../inference/safe-text.js";
import { type Runtime, getRuntime } from "../runtime.js";
import { type Caller, authenticateCaller } from "./caller-auth.js";
import { CallerMeter } from "./caller-meter.js";
import { corsHeaders, isPreflight, preflightResponse } from "./cors.js";
import { HttpProblem, problemResponse, unauthorized } from "./problem.js";
import { requestIdFor } from "./request-id.js";
import { sdkErrorResponse } from "./sdk-error.js";

export interface HandlerContext {
  runtime: Runtime;
  requestId: string;
  invocation: InvocationContext;
}

export interface AuthenticatedContext extends HandlerContext {
  caller: Caller;
  /** The caller's quotas for every model call of this request; undefined when quotas are off. */
  meter: CallerMeter | undefined;
}

export interface HandlerOptions {
  /** How errors are written: problem+json (our routes) or the SDK error shape (drop-in routes). */
  errors?: "problem" | "sdk";
  /**
   * The methods the route answers; any other is a 405 with `Allow`, before the caller is checked.
   * (The function must be registered for every method for the 405 to be ours: the host answers 404.)
   */
  methods?: readonly string[];
}

/** Every method, for functions that answer 405 themselves. */
export const ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] as const;

type Handler<C> = (request: HttpRequest, context: C) => Promise<HttpResponseInit>;

/**
 * The one wrapper every handler goes through: it gives the response its `x-request-id`, turns thrown
 * HttpProblems into error responses, and any other error into a 500 that shows nothing internal.
 * NOTE: with enableHttpStream a handler that throws sends no response at all
 * (https://github.com/Azure/azure-functions-nodejs-library/issues/324), so nothing may escape.
 */
export function anonymousHandler(handler: Handler<HandlerContext>, options: HandlerOptions = {}): HttpHandler {
  const render = options.errors === "sdk" ? sdkErrorResponse : problemResponse;
  const methods = options.methods;
  return async (request, invocation) => {
    const requestId = requestIdFor(request, invocation);
    let response: HttpResponseInit;
    let cors: Record<string, string> = {};
    try {
      const runtime = getRuntime();
      // Browsers ask before calling with keys or JSON; the answer comes before any authentication.
      if (isPreflight(request)) return withHeaders(preflightResponse(request, runtime.config.cors, methods ?? ["GET"]), { "x-request-id": requestId });
      cors = corsHeaders(request, runtime.config.cors);
      if (methods && !methods.includes(request.method)) throw methodNotAllowed(methods);
      response = await handler(request, { runtime, requestId, invocation });
    } catch (error) {
      response = render(asProblem(error, invocation), requestId);
    }
    return withHeaders(response, { ...cors, "x-request-id": requestId });
  };
}

/** Like anonymousHandler, but the request must come from a known caller (401 otherwise). */
export function callerHandler(handler: Handler<AuthenticatedContext>, options: HandlerOptions = {}): HttpHandler {
  return anonymousHandler(async (request, context) => {
    const { callerKeys, platformAuth, unresolvedSettings } = context.runtime.config;
    const caller = authenticateCaller(request, { keys: callerKeys, platformAuth });
    if (!caller) throw unresolvedSettings.includes("CALLER_KEYS") ? callerKeysUnavailable() : unauthorized();
    const { quotas, config } = context.runtime;
    const meter = quotas ? new CallerMeter(quotas, config.quotas, caller, config.maxTokens, (line) => context.invocation.warn(line)) : undefined;
    const response = await handler(request, { ...context, caller, meter });
    return meter ? withHeaders(response, meter.headers()) : response;
  }, options);
}

/** Fail closed: with the keys unreadable nobody is let in, and the answer says it is not their fault. */
const callerKeysUnavailable = () =>
  new HttpProblem(503, "caller_keys_unavailable", "Service Unavailable", "The app cannot check keys right now; its readiness check names the cause.", { "retry-after": "30" });

const methodNotAllowed = (methods: readonly string[]) =>
  new HttpProblem(405, "method_not_allowed", "Method Not Allowed", `This route answers ${methods.join(", ")} only.`, { allow: methods.join(", ") });

function asProblem(error: unknown, invocation: InvocationContext): HttpProblem {
  if (error instanceof HttpProblem) return error;
  // Only the error's kind and a URL-free message: logs must not carry endpoints or secrets.
  invocation.error("Handler failed:", error instanceof Error ? `${error.name}: ${safeText(error.message)}` : "non-error thrown");
  return new HttpProblem(500, "internal_error", "Internal Server Error", "The request failed unexpectedly; quote request_id when reporting it.");
}

function withHeaders(response: HttpResponseInit, extra: Record<string, string>): HttpResponseInit {
  const headers = response.headers;
  if (headers === undefined || (typeof headers === "object" && !(headers instanceof Headers) && !Array.isArray(headers))) {
    return { ...response, headers: { ...(headers as Record<string, string> | undefined), ...extra } };
  }
  const merged = new Headers(headers as ConstructorParameters<typeof Headers>[0]);
  for (const [name, value] of Object.entries(extra)) merged.set(name, value);
  return { ...response, headers: Object.fromEntries(merged) };
}
