import { HttpProblem } from "../lib/problem.js";
import type { ChatCompletion, ChatCompletionChunk, WireToolCall } from "../lib/wire.js";

/** The answer as a model turn's chunks build it: text, tool calls (by index, or by id), finish reason, usage. */
export class AnswerBuilder {
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

/**
 * A whole answer as the one chunk that carries all of it, so that a JSON answer and a streamed one
 * go through the same turn of the chat engine.
 */
export function completionChunks(completion: ChatCompletion): ChatCompletionChunk[] {
  const choice = completion.choices[0];
  if (!choice) throw new HttpProblem({ status: 502, code: "bad_upstream_response", title: "Bad Gateway", detail: "The model's answer has no choices." });
  const calls = choice.message.tool_calls ?? undefined;
  return [
    {
      id: completion.id,
      created: completion.created,
      model: completion.model,
      choices: [
        {
          index: 0,
          delta: {
            role: "assistant",
            content: choice.message.content ?? "",
            ...(calls ? { tool_calls: calls.map((call, index) => ({ ...call, index })) } : {}),
          },
          finish_reason: choice.finish_reason,
        },
      ],
      usage: completion.usage,
    },
  ];
}
