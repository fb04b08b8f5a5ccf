import type { HttpResponseInit } from "@azure/functions";

/** Headers of every event stream; `X-Accel-Buffering: no` keeps proxies from holding frames back. */
export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  "x-accel-buffering": "no",
} as const;

/** One `data:` frame; the blank line that ends it is what makes an SSE parser deliver it. */
export function dataFrame(data: string): string {
  return `data: ${data}\n\n`;
}

/**
 * A streamed 200 response whose body encodes frames from `frames` one at a time as the host reads
 * them, so nothing is buffered and a slow reader slows the producer. When the host stops reading,
 * the frames' generator is returned, which releases whatever feeds it.
 */
export function sseResponse(frames: AsyncIterable<string>, headers: Record<string, string> = {}): HttpResponseInit {
  return { status: 200, headers: { ...SSE_HEADERS, ...headers }, body: encoded(frames) };
}

async function* encoded(frames: AsyncIterable<string>): AsyncGenerator<Uint8Array> {
  for await (const frame of frames) yield Buffer.from(frame, "utf8");
}
