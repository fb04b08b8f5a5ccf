import type { ChatCompletion, ChatCompletionsBody, ModelPort, WireMessage, WireUsage } from "../inference/index.js";

/** Runs the first model call, on the deployment asked for or its fallback; says which answered. */
export type FirstTurn = (call: (port: ModelPort) => Promise<ChatCompletion>) => Promise<{ result: ChatCompletion; port: ModelPort }>;
import type { PreparedChat } from "./prepare.js";
import { ToolSession } from "../tools/tool-session.js";

/** How long a whole tool loop may take, every model call and tool included, before it is a 504. */
export function toolLoopDeadline(timeoutMs: number, callerSignal?: AbortSignal): AbortSignal {
  const own = AbortSignal.timeout(timeoutMs);
  return callerSignal ? AbortSignal.any([own, callerSignal]) : own;
}

/**
 * Server-run tools, JSON answer: the model is asked, its tool calls run (concurrently), their results
 * go back, until it answers in text or the iteration cap is reached; then it is asked once more with
 * tool_choice "none", so the caller always gets an answer. Usage adds up over every call.
 */
export async function completeWithTools(
  prepared: PreparedChat,
  session: ToolSession,
  signal: AbortSignal,
  firstTurn: FirstTurn = async (call) => ({ result: await call(prepared.port), port: prepared.port }),
): Promise<{ completion: ChatCompletion; usage: WireUsage; port: ModelPort }> {
  const messages: WireMessage[] = [...prepared.body.messages];
  const usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  const options = { extraParameters: prepared.extraParameters, signal, meter: prepared.meter, callerId: prepared.callerId };
  let port = prepared.port;
  for (let iteration = 0; ; iteration++) {
    const last = iteration >= session.limits.maxIterations;
    const body = toolTurnBody(prepared, session, messages, last);
    let completion: ChatCompletion;
    if (iteration === 0) {
      // Only the first turn may go to a fallback: no tool has run yet, so nothing runs twice.
      const first = await firstTurn((candidate) => candidate.complete(body, options));
      completion = first.result;
      port = first.port;
    } else {
      completion = await port.complete(body, options);
    }
    addUsage(usage, completion.usage);
    const message = completion.choices[0]?.message;
    const calls = message?.tool_calls ?? [];
    if (last || calls.length === 0) return { completion, usage, port };
    const unique = ToolSession.unique(calls);
    messages.push({ role: "assistant", content: message?.content ?? "", tool_calls: unique });
    const answers: WireMessage[] = [];
    for await (const { index, message: result } of session.run(unique, signal)) answers[index] = result;
    // The answers go back in the order of the calls, whichever finished first.
    messages.push(...answers);
  }
}

/** The body of one turn: the conversation so far and the server tools (none to choose on the last turn). */
export function toolTurnBody(prepared: PreparedChat, session: ToolSession, messages: WireMessage[], last: boolean): ChatCompletionsBody {
  return {
    ...prepared.body,
    messages,
    tools: session.definitions(),
    tool_choice: last ? "none" : (prepared.body.tool_choice ?? "auto"),
  };
}

export function addUsage(total: WireUsage, usage: WireUsage | null | undefined): void {
  if (!usage) return;
  total.prompt_tokens += usage.prompt_tokens;
  total.completion_tokens += usage.completion_tokens;
  total.total_tokens += usage.total_tokens;
}
