import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { type Runtime, getRuntime } from "../runtime.js";
import { type Caller, authenticateCaller } from "./caller-auth.js";
import { HttpProblem, problemResponse, unauthorized } from "./problem.js";
import { requestIdFor } from "./request-id.js";

export interface HandlerContext {
  runtime: Runtime;
  requestId: string;
  invocation: InvocationContext;
}

export interface AuthenticatedContext extends HandlerContext {
  caller: Caller;
}

type Handler<C> = (request: HttpRequest, context: C) => Promise<HttpResponseInit>;

/**
 * The one wrapper every handler goes through: it gives the response its `x-request-id`, turns thrown
 * HttpProblems into problem+json, and any other error into a 500 that shows nothing internal.
 * NOTE: with enableHttpStream a handler that throws sends no response at all
 * (https://github.com/Azure/azure-functions-nodejs-library/issues/324), so nothing may escape.
 */
export function anonymousHandler(handler: Handler<HandlerContext>): HttpHandler {
  return async (request, invocation) => {
    const requestId = requestIdFor(request, invocation);
    let response: HttpResponseInit;
    try {
      response = await handler(request, { runtime: getRuntime(), requestId, invocation });
    } catch (error) {
      response = problemResponse(asProblem(error, invocation), requestId);
    }
    return withHeader(response, "x-request-id", requestId);
  };
}

/** Like anonymousHandler, but the request must come from a known caller (401 problem otherwise). */
export function callerHandler(handler: Handler<AuthenticatedContext>): HttpHandler {
  return anonymousHandler(async (request, context) => {
    const caller = authenticateCaller(request, context.runtime.config.callerKeys);
    if (!caller) throw unauthorized();
    return handler(request, { ...context, caller });
  });
}

function asProblem(error: unknown, invocation: InvocationContext): HttpProblem {
  if (error instanceof HttpProblem) return error;
  invocation.error("Handler failed:", error instanceof Error ? `${error.name}: ${error.message}` : "non-error thrown");
  return new HttpProblem(500, "internal_error", "Internal Server Error", "The request failed unexpectedly; quote request_id when reporting it.");
}

function withHeader(response: HttpResponseInit, name: string, value: string): HttpResponseInit {
  const headers = new Headers(response.headers as ConstructorParameters<typeof Headers>[0]);
  headers.set(name, value);
  return { ...response, headers: Object.fromEntries(headers) };
}
