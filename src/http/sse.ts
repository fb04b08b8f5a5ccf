import type { HttpResponseInit } from "@azure/functions";
import { PING, withHeartbeat } from "./heartbeat.js";

/** Headers of every event stream; `X-Accel-Buffering: no` keeps proxies from holding frames back. */
export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  "x-accel-buffering": "no",
} as const;

/** A named event whose data is one line of JSON. */
export interface SseEvent {
  event: string;
  data: unknown;
}

/** One `data:` frame; the blank line that ends it is what makes an SSE parser deliver it. */
export function dataFrame(data: string): string {
  return `data: ${data}\n\n`;
}

/** One named event with one line of JSON, ended by the blank line parsers wait for. */
export function eventFrame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** The comment that keeps an idle connection open; parsers skip it. */
export const HEARTBEAT_FRAME = ": ping\n\n";

/**
 * A streamed 200 response whose body encodes frames from `frames` one at a time as the host reads
 * them, so nothing is buffered and a slow reader slows the producer. When the host stops reading,
 * the frames' generator is returned, which releases whatever feeds it.
 */
export function sseResponse(frames: AsyncIterable<string>, headers: Record<string, string> = {}): HttpResponseInit {
  return { status: 200, headers: { ...SSE_HEADERS, ...headers }, body: encoded(frames) };
}

/**
 * Named events as an SSE response, with a `: ping` comment whenever the events stay silent for
 * `heartbeatMs` (a model thinking, a tool running), so idle connections are not cut.
 */
export function sseEventResponse(events: AsyncIterable<SseEvent>, options: { heartbeatMs: number; headers?: Record<string, string> }): HttpResponseInit {
  return sseResponse(eventFrames(events, options.heartbeatMs), options.headers);
}

async function* eventFrames(events: AsyncIterable<SseEvent>, heartbeatMs: number): AsyncGenerator<string> {
  for await (const event of withHeartbeat(events, heartbeatMs)) {
    yield event === PING ? HEARTBEAT_FRAME : eventFrame(event.event, event.data);
  }
}

async function* encoded(frames: AsyncIterable<string>): AsyncGenerator<Uint8Array> {
  for await (const frame of frames) yield Buffer.from(frame, "utf8");
}
