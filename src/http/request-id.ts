import type { HttpRequest, InvocationContext } from "@azure/functions";

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's `x-request-id` when it is safe to echo, otherwise this invocation's id. */
export function requestIdFor(request: HttpRequest, context: InvocationContext): string {
  const incoming = request.headers.get("x-request-id");
  return incoming && SAFE_ID.test(incoming) ? incoming : context.invocationId;
}
