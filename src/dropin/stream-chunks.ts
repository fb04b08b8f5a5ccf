import type { ChatCompletionChunk, WireToolCall, WireUsage } from "../lib/wire.js";

/**
 * Reshapes the model's stream for OpenAI-style clients, chunk by chunk as they arrive:
 * - chunks with no choices (content-filter annotations) are not passed on;
 * - tool-call deltas get `index` and `type`, which the openai SDK's stream helpers need and Mistral
 *   on Azure leaves out;
 * - with `includeUsage` (OpenAI's `stream_options.include_usage`), usage moves to a final chunk with
 *   empty `choices`, where those clients look for it; otherwise it stays on the last chunk.
 */
export async function* dropInChunks(chunks: AsyncIterable<ChatCompletionChunk>, includeUsage: boolean): AsyncGenerator<ChatCompletionChunk> {
  const toolIndexes = new ToolCallIndexes();
  let usage: WireUsage | undefined;
  let last: ChatCompletionChunk | undefined;
  for await (const chunk of chunks) {
    if (chunk.usage) usage = chunk.usage;
    if (chunk.choices.length === 0) continue;
    for (const choice of chunk.choices) {
      const calls = choice.delta.tool_calls;
      if (calls) choice.delta.tool_calls = calls.map((call) => toolIndexes.complete(call));
    }
    if (includeUsage) chunk.usage = null;
    last = chunk;
    yield chunk;
  }
  if (includeUsage && usage && last) {
    yield { id: last.id, object: last.object ?? "chat.completion.chunk", created: last.created, model: last.model, choices: [], usage };
  }
}

/** OpenAI numbers tool calls within a response: a new id takes the next index, a delta without one continues the last. */
class ToolCallIndexes {
  readonly #byId = new Map<string, number>();
  #last = -1;

  complete(call: Partial<WireToolCall>): WireToolCall {
    let index = call.index;
    if (index === undefined) {
      if (call.id === undefined) index = Math.max(this.#last, 0);
      else index = this.#byId.get(call.id) ?? this.#byId.size;
    }
    if (call.id !== undefined) this.#byId.set(call.id, index);
    this.#last = index;
    return { ...call, index, type: call.type ?? "function" } as WireToolCall;
  }
}
