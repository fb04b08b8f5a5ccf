import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expiredCall } from "../../src/inference/expired.js";
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionsBody,
  ModelCallOptions,
  ModelInfo,
  ModelPort,
  WireToolCall,
  WireUsage,
} from "../../src/inference/index.js";
import { ModelError } from "../../src/lib/model-error.js";
import type { RecordedStream } from "./record-streams.js";

/** The recordings in test/fixtures/streams (re-recorded by test/support/record-streams.ts). */
export type StreamName = "text" | "tool-call" | "after-tool" | "content-filter" | "stall";

/** Changes a recorded chunk before it is played; gets the body the model was sent. */
export type ChunkEdit = (chunk: ChatCompletionChunk, body: ChatCompletionsBody) => ChatCompletionChunk;

/**
 * One scripted model call, answered in order:
 * - `{ stream }` answers `stream()` with the recording's chunks (a stalled recording yields its chunks,
 *   then nothing until the call's signal aborts or its deadline passes, then fails as the adapter does);
 * - `{ completion }` answers `complete()` with the one ChatCompletion the recording's chunks make up;
 * - `{ fail }` rejects either method with the error, before anything is streamed.
 * A turn that does not fit the method called, or a call with no turn left, fails the call with a
 * plain Error naming the fake, which the engine reports as an internal_error.
 */
export type Turn = { stream: StreamName; edit?: ChunkEdit } | { completion: StreamName; edit?: ChunkEdit } | { fail: Error };

/** What the fake was sent: the body as it was at the time of the call (a copy), and the options as given. */
export interface SentCall {
  method: "stream" | "complete";
  body: ChatCompletionsBody;
  options: ModelCallOptions;
  /** For streams: how the iteration ended (`returned`: the consumer stopped early). */
  outcome: "answered" | "failed" | "streaming" | "done" | "returned";
}

const STREAMS = join(__dirname, "..", "fixtures", "streams");
const cache = new Map<StreamName, RecordedStream>();

/** A recording, as a fresh copy each time (tests may change what they get). */
export function recorded(name: StreamName): RecordedStream {
  let stream = cache.get(name);
  if (!stream) {
    stream = JSON.parse(readFileSync(join(STREAMS, `${name}.json`), "utf8")) as RecordedStream;
    cache.set(name, stream);
  }
  return structuredClone(stream);
}

export function recordedChunks(name: StreamName): ChatCompletionChunk[] {
  return recorded(name).chunks as unknown as ChatCompletionChunk[];
}

/** The text the recording's deltas add up to, in the order they came, empty ones left out. */
export function recordedDeltas(name: StreamName): string[] {
  return recordedChunks(name).flatMap((chunk) => {
    const content = chunk.choices[0]?.delta.content;
    return content ? [content] : [];
  });
}

export function recordedUsage(name: StreamName): WireUsage {
  const usage = recordedChunks(name).findLast((chunk) => chunk.usage)?.usage;
  if (!usage) throw new Error(`the ${name} recording reports no usage`);
  return usage;
}

export function recordedToolCalls(name: StreamName): WireToolCall[] {
  return recordedChunks(name).flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
}

/** The whole answer a recording's chunks make up, as the model's JSON answer has it. */
export function completionFrom(chunks: readonly ChatCompletionChunk[]): ChatCompletion {
  const first = chunks[0];
  if (!first) throw new Error("no chunks to make a completion of");
  let content = "";
  let finishReason: string | null = null;
  let usage: WireUsage | undefined;
  const calls: WireToolCall[] = [];
  for (const chunk of chunks) {
    if (chunk.usage) usage = chunk.usage;
    const choice = chunk.choices[0];
    if (!choice) continue;
    content += choice.delta.content ?? "";
    for (const { index: _index, ...call } of choice.delta.tool_calls ?? []) calls.push(structuredClone(call));
    finishReason = choice.finish_reason ?? finishReason;
  }
  if (!usage) throw new Error("the chunks report no usage");
  return {
    id: first.id,
    object: "chat.completion",
    created: first.created,
    model: first.model,
    choices: [{ index: 0, message: { role: "assistant", content, tool_calls: calls.length > 0 ? calls : null }, finish_reason: finishReason, logprobs: null }],
    usage,
  };
}

/** A ModelPort that replays recorded answers from a script of turns and records every call it gets. */
/** The app's default limits on server-run tools, for tests that prepare chats of their own. */
/** The request limits of a runtime in tests: the app's defaults. */
export const CHAT_LIMITS = { maxBodyBytes: 1_048_576, maxMessageBytes: 1_048_576 };

export const TOOL_LIMITS = {
  timeoutMs: 1_000,
  maxOutputBytes: 16_384,
  maxIterations: 5,
  maxCallsPerTurn: 8,
  maxCallsPerRequest: 32,
  maxConcurrent: 4,
  maxConcurrentPerInstance: 64,
};

export class FakeModel implements ModelPort {
  readonly api = "model-inference" as const;
  readonly alias: string;
  readonly calls: SentCall[] = [];
  readonly #turns: Turn[];

  constructor(alias: string, turns: readonly Turn[] = []) {
    this.alias = alias;
    this.#turns = [...turns];
  }

  /** Adds turns to the end of the script. */
  script(...turns: Turn[]): this {
    this.#turns.push(...turns);
    return this;
  }

  /** Turns not played yet. */
  get pending(): number {
    return this.#turns.length;
  }

  /** The bodies sent, in order. */
  get bodies(): ChatCompletionsBody[] {
    return this.calls.map((call) => call.body);
  }

  async complete(body: ChatCompletionsBody, options: ModelCallOptions = {}): Promise<ChatCompletion> {
    const call = this.#record("complete", body, options);
    const turn = this.#next(call);
    if ("fail" in turn) return this.#failed(call, turn.fail);
    if (!("completion" in turn)) throw this.#misfit("complete", turn);
    const recording = recorded(turn.completion);
    if (recording.stalled) throw new Error(`FakeModel ${this.alias}: the ${turn.completion} recording never ends; play it with { stream }`);
    call.outcome = "answered";
    return completionFrom(this.#chunks(recording, call.body, turn.edit));
  }

  async stream(body: ChatCompletionsBody, options: ModelCallOptions = {}): Promise<AsyncIterable<ChatCompletionChunk>> {
    const call = this.#record("stream", body, options);
    const turn = this.#next(call);
    if ("fail" in turn) return this.#failed(call, turn.fail);
    if (!("stream" in turn)) throw this.#misfit("stream", turn);
    const recording = recorded(turn.stream);
    const chunks = this.#chunks(recording, call.body, turn.edit);
    call.outcome = "streaming";
    return (async function* () {
      let ended = false;
      try {
        for (const chunk of chunks) {
          // One chunk per turn of the event loop, as chunks off a socket come.
          await new Promise<void>((resolve) => setImmediate(resolve));
          yield chunk;
        }
        if (recording.stalled) await stalled(options);
        if (!recording.done) {
          throw new ModelError({
            kind: "network",
            status: 502,
            code: "upstream_stream_incomplete",
            message: "The model's stream ended before it was complete.",
          });
        }
        ended = true;
        call.outcome = "done";
      } catch (error) {
        ended = true;
        call.outcome = "failed";
        throw error;
      } finally {
        if (!ended) call.outcome = "returned";
      }
    })();
  }

  async info(): Promise<ModelInfo> {
    return { model_name: recorded("text").chunks[0]?.model as string, model_type: "chat-completion", model_provider_name: "MistralAI" };
  }

  #record(method: SentCall["method"], body: ChatCompletionsBody, options: ModelCallOptions): SentCall {
    // A copy: the engine goes on extending the conversation it sent.
    const call: SentCall = { method, body: structuredClone(body), options: { ...options }, outcome: "answered" };
    this.calls.push(call);
    return call;
  }

  /** The next turn; a call made after its deadline or signal fails as the adapter's would, and plays no turn. */
  #next(call: SentCall): Turn {
    const expired = expiredCall(call.options);
    if (expired) return this.#failed(call, expired);
    const turn = this.#turns.shift();
    if (!turn) return this.#failed(call, new Error(`FakeModel ${this.alias}: ${call.method}() called with no scripted turn left (call ${this.calls.length})`));
    return turn;
  }

  #failed(call: SentCall, error: Error): never {
    call.outcome = "failed";
    throw error;
  }

  #misfit(method: SentCall["method"], turn: Turn): Error {
    return new Error(`FakeModel ${this.alias}: ${method}() called, but the next scripted turn is ${JSON.stringify(turn)}`);
  }

  #chunks(recording: RecordedStream, body: ChatCompletionsBody, edit: ChunkEdit | undefined): ChatCompletionChunk[] {
    const chunks = recording.chunks as unknown as ChatCompletionChunk[];
    return edit ? chunks.map((chunk) => edit(chunk, body)) : chunks;
  }
}

/**
 * A stalled upstream: nothing more until the caller's signal aborts or the call's deadline passes,
 * then the error the adapter reports for that (a timeout, or the caller leaving).
 */
function stalled(options: ModelCallOptions): Promise<never> {
  return new Promise<never>((_, reject) => {
    const end = () => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", end);
      reject(
        expiredCall(options) ??
          new ModelError({ kind: "timeout", status: 504, code: "upstream_timeout", message: "The model did not answer in time.", blame: "caller" }),
      );
    };
    const timer = options.deadlineAt === undefined ? undefined : setTimeout(end, Math.max(0, options.deadlineAt - Date.now()));
    if (options.signal?.aborted) end();
    else options.signal?.addEventListener("abort", end, { once: true });
  });
}

/** Gives the recorded tool calls these ids, in order (the recording has one id; a later turn needs another). */
export function withToolCallIds(...ids: string[]): ChunkEdit {
  return (chunk) => {
    let next = 0;
    for (const choice of chunk.choices) {
      for (const call of choice.delta.tool_calls ?? []) call.id = ids[next++] ?? call.id;
    }
    return chunk;
  };
}

/** Replaces the recorded answer's text with `text` (in the first chunk that has text), keeping its chunks. */
export function withText(text: string): ChunkEdit {
  let placed = false;
  return (chunk) => {
    for (const choice of chunk.choices) {
      if (!choice.delta.content) continue;
      choice.delta.content = placed ? "" : text;
      placed = true;
    }
    return chunk;
  };
}

/** A model failure as the adapter reports an upstream answer of `status`. */
export function upstreamFailure(
  status: number,
  code = status === 503 ? "service_unavailable" : `http_${status}`,
  message = `The model endpoint answered ${status}.`,
): ModelError {
  return new ModelError({ kind: "upstream", status, code, message });
}
