import { countStreamProblem } from "../telemetry/count-problem.js";
import { HttpProblem, problemResponse } from "../http/problem.js";
import { type ChatCompletion, type ChatCompletionChunk, isModelError, type WireMessage, type WireToolCall } from "../inference/index.js";
import { toChatResponse } from "./from-wire.js";
import { PING, withHeartbeat } from "./heartbeat.js";
import { chatModelProblem, type PreparedChat } from "./prepare.js";
import { ToolSession } from "../tools/tool-session.js";
import { addUsage, toolTurnBody } from "./tool-loop.js";

/** One SSE frame: a named event with one line of JSON, ended by the blank line parsers wait for. */
export function eventFrame(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * The app contract's stream: `start`, a `delta` per piece of text as it arrives, a `tool_call` per
 * complete call (and, for server-run tools, a `tool_result` as each finishes, then the next turn's
 * deltas), then exactly one terminal event: `done` with the whole message, or `error` with a
 * problem. `: ping` comments fill any silence longer than `heartbeatMs`, whether the model is
 * thinking or a tool is running.
 */
export async function* chatStreamFrames(
  first: AsyncIterable<ChatCompletionChunk>,
  prepared: PreparedChat,
  requestId: string,
  heartbeatMs: number,
  deadline?: AbortSignal,
): AsyncGenerator<string> {
  for await (const frame of withHeartbeat(eventFrames(first, prepared, requestId, deadline), heartbeatMs)) {
    yield frame === PING ? ": ping\n\n" : frame;
  }
}

async function* eventFrames(first: AsyncIterable<ChatCompletionChunk>, prepared: PreparedChat, requestId: string, deadline?: AbortSignal): AsyncGenerator<string> {
  const session = prepared.tools;
  const messages: WireMessage[] = [...prepared.body.messages];
  const usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  const signal = deadline ?? new AbortController().signal;
  let chunks = first;
  let started = false;
  try {
    for (let iteration = 0; ; iteration++) {
      const answer = new StreamedAnswer();
      for await (const chunk of chunks) {
        if (!started) {
          started = true;
          yield eventFrame("start", { id: chunk.id, model: prepared.port.alias, created: chunk.created });
        }
        const text = answer.add(chunk);
        if (text) yield eventFrame("delta", { content: text });
      }
      if (!started) throw new HttpProblem(502, "bad_upstream_response", "Bad Gateway", "The model's stream held no answer.");
      const completion = answer.completion();
      addUsage(usage, completion.usage);
      const calls = completion.choices[0]?.message.tool_calls ?? [];
      if (!session || calls.length === 0 || iteration >= session.limits.maxIterations) {
        const loop = session ? { steps: session.steps, usage } : undefined;
        const response = toChatResponse(completion, prepared.port.alias, prepared.ids, prepared.request, prepared.validateOutput, loop);
        for (const call of response.message.tool_calls ?? []) {
          yield eventFrame("tool_call", { id: call.id, name: call.function.name, arguments: call.function.arguments });
        }
        yield eventFrame("done", { finish_reason: response.finish_reason, usage: response.usage, message: response.message });
        return;
      }
      const unique = ToolSession.unique(calls);
      for (const call of unique) yield eventFrame("tool_call", { id: call.id, name: call.function.name, arguments: call.function.arguments });
      messages.push({ role: "assistant", content: completion.choices[0]?.message.content ?? "", tool_calls: unique });
      const answers: WireMessage[] = [];
      for await (const { index, step, message } of session.run(unique, signal)) {
        answers[index] = message;
        const outcome = step.error !== undefined ? { error: step.error } : { content: step.result };
        yield eventFrame("tool_result", { id: step.tool_call.id, name: step.tool_call.name, ...outcome });
      }
      messages.push(...answers);
      const last = iteration + 1 >= session.limits.maxIterations;
      chunks = await prepared.port.stream(toolTurnBody(prepared, session, messages, last), { extraParameters: prepared.extraParameters, signal, meter: prepared.meter, callerId: prepared.callerId });
    }
  } catch (error) {
    const problem = deadline?.aborted ? loopTimeout() : asProblem(error);
    countStreamProblem(problem);
    yield eventFrame("error", problemResponse(problem, requestId).jsonBody);
  }
}

export const loopTimeout = () => new HttpProblem(504, "upstream_timeout", "Gateway Timeout", "The answer did not finish in time.");

function asProblem(error: unknown): HttpProblem {
  if (error instanceof HttpProblem) return error;
  if (isModelError(error)) return chatModelProblem(error);
  return new HttpProblem(500, "internal_error", "Internal Server Error", "The stream failed unexpectedly; quote request_id when reporting it.");
}

/** The answer as the chunks build it: text, tool calls (by index, or by id), finish reason, usage. */
class StreamedAnswer {
  id: string | undefined;
  #created = 0;
  #model = "";
  #content = "";
  #finishReason: string | null = null;
  #usage: ChatCompletion["usage"] | undefined;
  readonly #calls: WireToolCall[] = [];

  /** Takes one chunk and returns the text it added. */
  add(chunk: ChatCompletionChunk): string {
    this.id ??= chunk.id;
    this.#created ||= chunk.created;
    this.#model ||= chunk.model;
    if (chunk.usage) this.#usage = chunk.usage;
    let text = "";
    for (const choice of chunk.choices) {
      if (choice.index !== 0) continue;
      if (choice.delta.content) text += choice.delta.content;
      for (const call of choice.delta.tool_calls ?? []) this.#addCall(call);
      if (choice.finish_reason) this.#finishReason = choice.finish_reason;
    }
    this.#content += text;
    return text;
  }

  #addCall(delta: Partial<WireToolCall>): void {
    const index = delta.index ?? (delta.id !== undefined ? this.#calls.findIndex((c) => c.id === delta.id) : this.#calls.length - 1);
    const existing = index >= 0 ? this.#calls[index] : undefined;
    if (!existing) {
      this.#calls.push({ id: delta.id ?? "", type: "function", function: { name: delta.function?.name ?? "", arguments: delta.function?.arguments ?? "" } });
      return;
    }
    if (delta.function?.name) existing.function.name = delta.function.name;
    existing.function.arguments += delta.function?.arguments ?? "";
  }

  completion(): ChatCompletion {
    return {
      id: this.id ?? "",
      created: this.#created,
      model: this.#model,
      choices: [{ index: 0, message: { role: "assistant", content: this.#content, tool_calls: this.#calls }, finish_reason: this.#finishReason }],
      usage: this.#usage as ChatCompletion["usage"],
    };
  }
}
