import { randomBytes } from "node:crypto";

const TRACE_PARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export interface HostTraceContext {
  traceParent: string;
  traceState: string;
  attributes: Record<string, string>;
}

/**
 * The trace context the Functions host gives every invocation: its own span for the request, in the
 * caller's trace when the caller sent a valid W3C `traceparent`, else in a new trace. (The host always
 * sends one; functions never see an invocation without it.)
 */
export function hostTraceContext(traceparent: string | undefined, tracestate: string | undefined): HostTraceContext {
  const incoming = TRACE_PARENT.exec(traceparent?.trim().toLowerCase() ?? "");
  const traceId = incoming && !/^0+$/.test(incoming[1] ?? "") ? (incoming[1] as string) : randomBytes(16).toString("hex");
  const flags = incoming ? (incoming[3] as string) : "01";
  const spanId = randomBytes(8).toString("hex");
  return { traceParent: `00-${traceId}-${spanId}-${flags}`, traceState: incoming ? (tracestate ?? "") : "", attributes: {} };
}
