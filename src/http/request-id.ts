import type { InvocationContext } from "@azure/functions";
import { parseTraceParent } from "../telemetry/trace-parent.js";

/**
 * The id of this request's trace: the operation id of its telemetry in Application Insights, so an
 * `x-request-id` a user quotes finds everything the request did. The host continues the caller's
 * `traceparent` when one was sent; without a trace context, the invocation id.
 */
export function requestIdFor(context: InvocationContext): string {
  return parseTraceParent(context.traceContext?.traceParent)?.traceId ?? context.invocationId;
}
