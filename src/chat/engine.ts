import type { ChatCompletionChunk, ChatCompletionsBody, ModelCallOptions, ModelPort, ModelRegistry, WireMessage, WireUsage } from "../inference/index.js";
import { managedStream } from "../lib/managed-stream.js";
import { HttpProblem } from "../lib/problem.js";
import { toProblem } from "../lib/to-problem.js";
import { ToolSession } from "../tools/tool-session.js";
import { AnswerBuilder, completionChunks } from "./answer-builder.js";
import type { ChatPart } from "./chat-parts.js";
import { type ChatResponse, toChatResponse } from "./from-wire.js";
import type { PreparedChat } from "./prepare.js";

/** A turn's answer: chunks as they stream in, or the one chunk that holds a whole answer. */
type Chunks = AsyncIterable<ChatCompletionChunk> | Iterable<ChatCompletionChunk>;

/** How one chat is run: where the model calls go and within what. */
export interface ChatCall {
  models: ModelRegistry;
  /** The caller lets another deployment answer the first turn when its own is down. */
  allowFallback: boolean;
  /** Stream the model's answer (parts as they come), or ask for each turn whole (a JSON answer). */
  stream: boolean;
  /** When the whole chat must be over (epoch ms): every model call and tool included. */
  deadlineAt: number;
  /** The caller's own deadline or departure. */
  signal?: AbortSignal;
  /** Each model call's budget, when not the deployment's own (a queued job's calls get the job's). */
  callBudgetMs?: number;
  /** Where failed model attempts are reported. */
  warn?: (message: string) => void;
}

/** A chat whose first model call was accepted: which deployment answers, and the parts to come. */
export interface ChatRun {
  alias: string;
  parts: AsyncIterable<ChatPart>;
}

/**
 * The one chat engine behind /api/chat, /api/chat/stream and queued jobs (/api/chat/jobs). It makes the first
 * model call, on the deployment asked for or its fallback, and resolves once that call was accepted:
 * a failure up to here is thrown (a route answers it as a plain HTTP error). Everything after comes
 * as parts, ending in exactly one `done` or `error`: the server-tool loop (each turn's calls run, their
 * results go back, until the model answers in text or the rounds run out, when it is asked once more
 * without tools), usage added up over every call, tool-call ids mapped back, and JSON output checked.
 */
export async function openChat(prepared: PreparedChat, call: ChatCall): Promise<ChatRun> {
  const session = prepared.tools;
  const options: ModelCallOptions = {
    extraParameters: prepared.extraParameters,
    signal: call.signal,
    deadlineAt: call.deadlineAt,
    ...(call.callBudgetMs !== undefined ? { budgetMs: call.callBudgetMs } : {}),
    meter: prepared.meter,
    callerId: prepared.callerId,
    warn: call.warn,
  };
  const turn = (port: ModelPort, body: ChatCompletionsBody): Promise<Chunks> =>
    call.stream ? port.stream(body, options) : port.complete(body, options).then(completionChunks);
  const messages: WireMessage[] = [...prepared.body.messages];
  const firstBody = session ? turnBody(prepared, session, messages, session.limits.maxIterations === 0 ? "last" : "first") : prepared.body;
  // Only the first turn may go to a fallback: no tool has run yet, so nothing runs twice.
  const first = await call.models.withFallback(prepared.port, call.allowFallback, (port) => turn(port, firstBody));
  const port = first.port;
  const toolSignal = session ? toolDeadline(call) : undefined;
  const parts = chatParts({ prepared, port, first: first.result, messages, next: (body) => turn(port, body), toolSignal });
  const stream = first.result;
  if (!(Symbol.asyncIterator in stream)) return { alias: port.alias, parts };
  // A generator left before its first read runs none of its code: the first turn's stream (its quota
  // ticket, its upstream connection) is released here instead. Releasing it twice changes nothing.
  return { alias: port.alias, parts: managedStream(parts, () => void stream[Symbol.asyncIterator]().return?.()) };
}

interface Turns {
  prepared: PreparedChat;
  port: ModelPort;
  first: Chunks;
  /** The conversation so far, which each round of tool calls extends. */
  messages: WireMessage[];
  next: (body: ChatCompletionsBody) => Promise<Chunks>;
  toolSignal: AbortSignal | undefined;
}

async function* chatParts({ prepared, port, first, messages, next, toolSignal }: Turns): AsyncGenerator<ChatPart> {
  const session = prepared.tools;
  const usage: WireUsage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  let chunks: Chunks = first;
  let started = false;
  /** The chat's id: its first turn's, as the stream's `start` says, whichever turn answers last. */
  let chatId: string | undefined;
  try {
    for (let round = 0; ; round++) {
      const answer = new AnswerBuilder();
      for await (const chunk of chunks) {
        if (!started) {
          started = true;
          chatId = chunk.id;
          yield { type: "start", id: chunk.id, model: port.alias, created: chunk.created };
        }
        const text = answer.add(chunk);
        if (text) yield { type: "delta", content: text };
      }
      if (!started) throw new HttpProblem({ status: 502, code: "bad_upstream_response", title: "Bad Gateway", detail: "The model's stream held no answer." });
      const completion = answer.completion();
      addUsage(usage, completion.usage);
      const calls = completion.choices[0]?.message.tool_calls ?? [];
      if (!session || calls.length === 0 || round >= session.limits.maxIterations) {
        const loop = session ? { steps: session.steps, usage } : undefined;
        const response = toChatResponse(
          { ...completion, id: chatId ?? completion.id },
          port.alias,
          prepared.ids,
          prepared.request,
          prepared.validateOutput,
          loop,
        );
        for (const made of response.message.tool_calls ?? []) {
          yield { type: "tool_call", id: made.id, name: made.function.name, arguments: made.function.arguments };
        }
        yield { type: "done", response };
        return;
      }
      const unique = ToolSession.unique(calls);
      for (const made of unique) yield { type: "tool_call", id: made.id, name: made.function.name, arguments: made.function.arguments };
      messages.push({ role: "assistant", content: completion.choices[0]?.message.content ?? "", tool_calls: unique });
      const answers: WireMessage[] = [];
      for await (const { index, step, message } of session.run(unique, toolSignal as AbortSignal)) {
        // The answers go back in the order of the calls, whichever finished first.
        answers[index] = message;
        const outcome = step.error !== undefined ? { error: step.error } : { content: step.result };
        yield { type: "tool_result", id: step.tool_call.id, name: step.tool_call.name, ...outcome };
      }
      messages.push(...answers);
      chunks = await next(turnBody(prepared, session, messages, round + 1 >= session.limits.maxIterations ? "last" : "next"));
    }
  } catch (error) {
    yield { type: "error", problem: toProblem(error, { route: "app" }) };
  }
}

/**
 * One turn's body: the conversation so far and the server tools. The caller's tool_choice holds for
 * the first turn only: a forced call ("required", or a named tool) repeated on every turn would make
 * the model call tools until the rounds run out. On the last turn there is none to choose.
 */
function turnBody(prepared: PreparedChat, session: ToolSession, messages: WireMessage[], turn: "first" | "next" | "last"): ChatCompletionsBody {
  const choice = turn === "last" ? "none" : turn === "first" ? (prepared.body.tool_choice ?? "auto") : "auto";
  return { ...prepared.body, messages, tools: session.definitions(), tool_choice: choice };
}

/** Tools run within the chat's deadline and the caller's own. */
function toolDeadline(call: ChatCall): AbortSignal {
  const own = AbortSignal.timeout(Math.max(0, call.deadlineAt - Date.now()));
  return call.signal ? AbortSignal.any([own, call.signal]) : own;
}

function addUsage(total: WireUsage, usage: WireUsage | null | undefined): void {
  if (!usage) return;
  total.prompt_tokens += usage.prompt_tokens;
  total.completion_tokens += usage.completion_tokens;
  total.total_tokens += usage.total_tokens;
}

/** A chat's answer as /api/chat returns it: the `done` part's response, or its `error` part's problem thrown. */
export async function collectChat(parts: AsyncIterable<ChatPart>): Promise<ChatResponse> {
  for await (const part of parts) {
    if (part.type === "done") return part.response;
    if (part.type === "error") throw part.problem;
  }
  throw new HttpProblem({
    status: 500,
    code: "internal_error",
    title: "Internal Server Error",
    detail: "The chat ended without an answer; quote request_id when reporting it.",
  });
}
