import { expiredCall } from "./expired.js";
import { managedStream } from "./managed-stream.js";
import type { MeterTicket, ModelCallOptions, ModelPort } from "./model-port.js";
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionsBody, ModelInfo, WireUsage } from "./wire.js";

/**
 * Admits each call against the caller's and the deployment's quotas before it goes out, and
 * settles it with the usage the model reported once the answer is over: after a JSON answer, and
 * when a stream ends, fails or is abandoned (partial streams are charged for what was sent).
 * Outermost of a deployment's ports: retries of one call are admitted once.
 */
export class MeteredModelPort implements ModelPort {
  readonly alias: string;

  constructor(private readonly inner: ModelPort) {
    this.alias = inner.alias;
  }

  async complete(body: ChatCompletionsBody, options: ModelCallOptions = {}): Promise<ChatCompletion> {
    const ticket = await admit(this.alias, body, options);
    try {
      const completion = await this.inner.complete(body, options);
      ticket?.settle(completion.usage, 0);
      return completion;
    } catch (error) {
      ticket?.settle(undefined, 0);
      throw error;
    }
  }

  async stream(body: ChatCompletionsBody, options: ModelCallOptions = {}): Promise<AsyncIterable<ChatCompletionChunk>> {
    const ticket = await admit(this.alias, body, options);
    let chunks: AsyncIterable<ChatCompletionChunk>;
    try {
      chunks = await this.inner.stream(body, options);
    } catch (error) {
      ticket?.settle(undefined, 0);
      throw error;
    }
    return ticket ? metered(chunks, ticket) : chunks;
  }

  info(options?: { signal?: AbortSignal }): Promise<ModelInfo> {
    return this.inner.info(options);
  }
}

/**
 * No call starts once its request's time is up (a fallback after a primary that used it all, say),
 * and a deadline that passes during admission is a timeout, not the quota store's raw abort error.
 */
async function admit(alias: string, body: ChatCompletionsBody, options: ModelCallOptions): Promise<MeterTicket | undefined> {
  const before = expiredCall(options);
  if (before) throw before;
  try {
    return await options.meter?.admit(alias, body, options.signal);
  } catch (error) {
    throw expiredCall(options) ?? error;
  }
}

function metered(chunks: AsyncIterable<ChatCompletionChunk>, ticket: MeterTicket): AsyncIterable<ChatCompletionChunk> {
  let usage: WireUsage | undefined;
  /** Chunks that carried answer text or tool calls: about a token each. */
  let sent = 0;
  async function* counting() {
    for await (const chunk of chunks) {
      if (chunk.usage) usage = chunk.usage;
      if (chunk.choices.some((choice) => choice.delta?.content || choice.delta?.tool_calls)) sent += 1;
      yield chunk;
    }
  }
  // managedStream runs the release once, however the stream ends (done, failed, or abandoned unread).
  return managedStream(counting(), () => ticket.settle(usage, sent));
}
