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
 * A streamed 200 response whose body pulls frames from `frames` one at a time, so nothing is
 * buffered and a slow reader slows the producer. Cancelling the body stops the producer.
 */
export function sseResponse(frames: AsyncIterable<string>, headers: Record<string, string> = {}): HttpResponseInit {
  const encoder = new TextEncoder();
  const iterator = frames[Symbol.asyncIterator]();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(next.value));
    },
    async cancel() {
      await iterator.return?.();
    },
  });
  return { status: 200, headers: { ...SSE_HEADERS, ...headers }, body };
}
