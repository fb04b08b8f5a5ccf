import type { InvocationContext } from "@azure/functions";

const TRACE_PARENT = /^00-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * The id of this request's trace: the operation id of its telemetry in Application Insights, so an
 * `x-request-id` a user quotes finds everything the request did. The host continues the caller's
 * `traceparent` when one was sent; without a trace context, the invocation id.
 */
export function requestIdFor(context: InvocationContext): string {
  return TRACE_PARENT.exec(context.traceContext?.traceParent ?? "")?.[1] ?? context.invocationId;
}
