import type { HttpResponseInit } from "@azure/functions";
import { managedStream } from "../lib/managed-stream.js";
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
 * A source's items as an SSE response, each written as the named event `toEvent` makes of it (the item
 * itself when it is one), with a
 * `: ping` comment whenever the source stays silent for `heartbeatMs` (a model thinking, a tool
 * running), so idle connections are not cut. One generator turns items into bytes: every layer
 * between the model's chunks and the socket costs a promise per chunk.
 */
export function sseEventResponse<T = SseEvent>(
  source: AsyncIterable<T>,
  options: { heartbeatMs: number; headers?: Record<string, string>; toEvent?: (item: T) => SseEvent },
): HttpResponseInit {
  const toEvent = options.toEvent ?? ((item: T) => item as SseEvent);
  const bytes = eventBytes(source, options.heartbeatMs, toEvent);
  let started = false;
  // A body left before its first read never reaches its source: release the source here instead.
  const reads = {
    next: () => {
      started = true;
      return bytes.next();
    },
    return: (value?: unknown) => bytes.return(value as undefined),
  };
  const body = managedStream(reads, () => {
    if (!started) void source[Symbol.asyncIterator]().return?.();
  });
  return { status: 200, headers: { ...SSE_HEADERS, ...options.headers }, body };
}

async function* eventBytes<T>(source: AsyncIterable<T>, heartbeatMs: number, toEvent: (item: T) => SseEvent): AsyncGenerator<Uint8Array> {
  for await (const item of withHeartbeat(source, heartbeatMs)) {
    if (item === PING) {
      yield Buffer.from(HEARTBEAT_FRAME, "utf8");
      continue;
    }
    const { event, data } = toEvent(item);
    yield Buffer.from(eventFrame(event, data), "utf8");
  }
}

async function* encoded(frames: AsyncIterable<string>): AsyncGenerator<Uint8Array> {
  for await (const frame of frames) yield Buffer.from(frame, "utf8");
}
