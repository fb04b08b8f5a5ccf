import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import type { AppConfig } from "../config/index.js";
import type { CorsConfig } from "../config/types.js";
import { managedStream } from "../lib/managed-stream.js";
import { HttpProblem, unauthorized } from "../lib/problem.js";
import { toProblem } from "../lib/to-problem.js";
import { type CallerMeter, callerMeterFor } from "../quotas/caller-meter.js";
import type { QuotaStore } from "../quotas/index.js";
import { problemCategory, type RequestInfo, type RequestSpan, telemetry } from "../telemetry/telemetry.js";
import { authenticateCaller, type Caller } from "./caller-auth.js";
import { corsHeaders, isPreflight, preflightResponse } from "./cors.js";
import { logProblem } from "./log-problem.js";
import { problemResponse } from "./problem-response.js";
import { requestIdFor } from "./request-id.js";
import { sdkErrorResponse } from "./sdk-error.js";

/** What the wrapper itself needs of the app's runtime: its settings and, for callers' quotas, the store. */
export interface HandlerRuntime {
  config: AppConfig;
  quotas: QuotaStore | undefined;
}

export interface HandlerContext<R extends HandlerRuntime = HandlerRuntime> {
  runtime: R;
  requestId: string;
  invocation: InvocationContext;
  /** The request's telemetry span (nothing is recorded when telemetry is off). */
  span: RequestSpan;
}

export interface AuthenticatedContext<R extends HandlerRuntime = HandlerRuntime> extends HandlerContext<R> {
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
  /** The route's template, for a route with parameters: telemetry names its requests by it, not by each path. */
  route?: string;
  /**
   * `public`: any origin may read it, never with credentials (a document for tools such as the Azure
   * portal's connector wizard), whatever CORS_ALLOWED_ORIGINS says for the API itself.
   */
  cors?: "public";
}

const PUBLIC_CORS: CorsConfig = { origins: "*", allowCredentials: false };

/** Every method, for functions that answer 405 themselves. */
export const ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] as const;

type Handler<C> = (request: HttpRequest, context: C) => Promise<HttpResponseInit>;

/**
 * The one wrapper every handler goes through: it gives the response its `x-request-id`, turns thrown
 * HttpProblems into error responses, and any other error into a 500 that shows nothing internal.
 * NOTE: with enableHttpStream a handler that throws sends no response at all
 * (https://github.com/Azure/azure-functions-nodejs-library/issues/324), so nothing may escape.
 */
export function anonymousHandler<R extends HandlerRuntime>(runtime: R, handler: Handler<HandlerContext<R>>, options: HandlerOptions = {}): HttpHandler {
  const render = options.errors === "sdk" ? sdkErrorResponse : problemResponse;
  const methods = options.methods;
  return async (request, invocation) => {
    const requestId = requestIdFor(invocation);
    const span = telemetry().request({
      method: request.method,
      path: pathOf(request.url),
      ...(options.route ? { route: options.route } : {}),
      traceParent: invocation.traceContext?.traceParent,
      clientRequestId: clientRequestId(request),
      workflow: workflowOf(request),
    });
    let response: HttpResponseInit;
    let problem: HttpProblem | undefined;
    let cors: Record<string, string> = {};
    try {
      const policy = options.cors === "public" ? PUBLIC_CORS : runtime.config.cors;
      cors = corsHeaders(request, policy);
      // Browsers ask before calling with keys or JSON; the answer comes before any authentication.
      if (isPreflight(request)) {
        cors = {};
        response = preflightResponse(request, policy, methods ?? ["GET"]);
      } else {
        if (methods && !methods.includes(request.method)) throw methodNotAllowed(methods);
        response = await telemetry().within(span, () => handler(request, { runtime, requestId, invocation, span }));
      }
    } catch (error) {
      problem = toProblem(error, { route: options.errors === "sdk" ? "dropin" : "app" });
      logProblem(problem, invocation);
      response = render(problem, requestId);
    }
    return withHeaders(observed(response, span, problem), { ...cors, "x-request-id": requestId });
  };
}

/**
 * Records the answer on the request's span and ends it: now for a finished answer, when the body
 * has been read (or abandoned) for a stream, whose later steps run in the request's context.
 */
function observed(response: HttpResponseInit, span: RequestSpan, problem: HttpProblem | undefined): HttpResponseInit {
  const status = response.status ?? 200;
  span.answered(status, problem?.code);
  const category = problem ? problemCategory(status, problem.code) : undefined;
  if (problem && category) span.problem(category, problem.code);
  const body = response.body;
  if (body && typeof body === "object" && Symbol.asyncIterator in body) {
    const stream = span.bind(body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    return { ...response, body: managedStream(stream, () => span.end()) as never };
  }
  span.end();
  return response;
}

/** The path of an absolute URL, without parsing all of it (this runs on every request). */
function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const end = url.search(/[?#]/);
  return end < 0 ? url.slice(start) : url.slice(start, end);
}

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A caller's own request id, kept in telemetry to search by when it is plainly an id. */
function clientRequestId(request: HttpRequest): string | undefined {
  const id = request.headers.get("x-request-id");
  return id && SAFE_ID.test(id) ? id : undefined;
}

/** The headers Logic Apps sends with each call of a workflow, when they are plainly ids. */
function workflowOf(request: HttpRequest): RequestInfo["workflow"] {
  const id = (name: string) => {
    const value = request.headers.get(name);
    return value && SAFE_ID.test(value) ? value : undefined;
  };
  const runId = id("x-ms-workflow-run-id");
  const name = id("x-ms-workflow-name");
  const clientTrackingId = id("x-ms-client-tracking-id");
  return runId || name || clientTrackingId ? { runId, name, clientTrackingId } : undefined;
}

/** Like anonymousHandler, but the request must come from a known caller (401 otherwise). */
export function callerHandler<R extends HandlerRuntime>(runtime: R, handler: Handler<AuthenticatedContext<R>>, options: HandlerOptions = {}): HttpHandler {
  return anonymousHandler(
    runtime,
    async (request, context) => {
      const { callerKeys, platformAuth, signedInUsers, unresolvedSettings } = context.runtime.config;
      const caller = await authenticateCaller(request, { keys: callerKeys, platformAuth, ...(signedInUsers ? { signedInUsers } : {}) });
      if (!caller) throw unresolvedSettings.includes("CALLER_KEYS") ? callerKeysUnavailable() : unauthorized();
      context.span.setCaller(caller.id);
      const meter = callerMeterFor(context.runtime.quotas, context.runtime.config, caller, (line) => context.invocation.warn(line));
      const response = await handler(request, { ...context, caller, meter });
      return meter ? withHeaders(response, meter.headers()) : response;
    },
    options,
  );
}

/** Fail closed: with the keys unreadable nobody is let in, and the answer says it is not their fault. */
const callerKeysUnavailable = () =>
  new HttpProblem({
    status: 503,
    code: "caller_keys_unavailable",
    title: "Service Unavailable",
    detail: "The app cannot check keys right now; its readiness check names the cause.",
    headers: { "retry-after": "30" },
  });

const methodNotAllowed = (methods: readonly string[]) =>
  new HttpProblem({
    status: 405,
    code: "method_not_allowed",
    title: "Method Not Allowed",
    detail: `This route answers ${methods.join(", ")} only.`,
    headers: { allow: methods.join(", ") },
  });

function withHeaders(response: HttpResponseInit, extra: Record<string, string>): HttpResponseInit {
  const headers = response.headers;
  if (headers === undefined || (typeof headers === "object" && !(headers instanceof Headers) && !Array.isArray(headers))) {
    return { ...response, headers: { ...(headers as Record<string, string> | undefined), ...extra } };
  }
  const merged = new Headers(headers as ConstructorParameters<typeof Headers>[0]);
  for (const [name, value] of Object.entries(extra)) merged.set(name, value);
  return { ...response, headers: Object.fromEntries(merged) };
}
