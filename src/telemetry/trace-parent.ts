const TRACE_PARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export interface TraceParent {
  traceId: string;
  spanId: string;
  flags: number;
}

/** A W3C `traceparent` (version 00), or undefined when it is not one. */
export function parseTraceParent(value: string | undefined): TraceParent | undefined {
  const match = TRACE_PARENT.exec(value ?? "");
  if (!match) return undefined;
  const [, traceId = "", spanId = "", flags = "01"] = match;
  return { traceId, spanId, flags: Number.parseInt(flags, 16) };
}
