import { ModelError } from "../lib/model-error.js";
import type { ChatCompletionChunk } from "../lib/wire.js";

interface SseEvent {
  data: string;
}

const badChunk = (message: string) => new ModelError({ kind: "protocol", status: 502, code: "bad_upstream_response", message });

/**
 * Reads `data:` events into completion chunks, stops at `data: [DONE]`, and refuses what a model
 * never sends: invalid JSON, a chunk without `choices`, or a stream that ends without `[DONE]`.
 */
export async function* decodeChunks(events: AsyncIterable<SseEvent>): AsyncGenerator<ChatCompletionChunk> {
  for await (const event of events) {
    if (event.data === "[DONE]") return;
    if (event.data === "") continue;
    let chunk: unknown;
    try {
      chunk = JSON.parse(event.data);
    } catch {
      throw badChunk("The model sent a stream chunk that is not valid JSON.");
    }
    if (!chunk || typeof chunk !== "object" || !Array.isArray((chunk as { choices?: unknown }).choices)) {
      throw badChunk("The model sent a stream chunk without choices.");
    }
    yield chunk as ChatCompletionChunk;
  }
  throw new ModelError({
    kind: "network",
    status: 502,
    code: "upstream_stream_incomplete",
    message: "The model's stream ended before it was complete.",
  });
}
