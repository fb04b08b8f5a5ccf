import { describe, expect, it } from "vitest";
import { dropInChunks } from "../../../src/dropin/stream-chunks.js";
import type { ChatCompletionChunk } from "../../../src/inference/index.js";

const base = { id: "c1", object: "chat.completion.chunk", created: 1, model: "M" };
const chunk = (delta: Record<string, unknown>, extra: Partial<ChatCompletionChunk> = {}): ChatCompletionChunk =>
  ({ ...base, choices: [{ index: 0, delta, finish_reason: null }], ...extra }) as ChatCompletionChunk;

async function run(chunks: ChatCompletionChunk[], includeUsage = false) {
  async function* source() {
    yield* chunks;
  }
  const out: ChatCompletionChunk[] = [];
  for await (const c of dropInChunks(source(), includeUsage)) out.push(c);
  return out;
}

const usage = { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 };

describe("dropInChunks", () => {
  it("drops chunks without choices", async () => {
    const out = await run([{ ...base, choices: [] } as ChatCompletionChunk, chunk({ content: "a" })]);
    expect(out.map((c) => c.choices[0]?.delta.content)).toEqual(["a"]);
  });

  it("numbers tool calls by id and gives them a type", async () => {
    const call = (id: string | undefined, args: string) => ({ ...(id ? { id } : {}), function: { name: "f", arguments: args } });
    const out = await run([
      chunk({ tool_calls: [call("aaaaaaaaa", "{}"), call("bbbbbbbbb", "{}")] }),
      chunk({ tool_calls: [call("ccccccccc", "{")] }),
      chunk({ tool_calls: [call(undefined, "}")] }),
    ]);
    const calls = out.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls.map((c) => [c.id, c.index, c.type])).toEqual([
      ["aaaaaaaaa", 0, "function"],
      ["bbbbbbbbb", 1, "function"],
      ["ccccccccc", 2, "function"],
      [undefined, 2, "function"],
    ]);
  });

  it("keeps usage on the last chunk by default", async () => {
    const out = await run([chunk({ content: "a" }), chunk({ content: "" }, { usage })]);
    expect(out.at(-1)?.usage).toEqual(usage);
    expect(out).toHaveLength(2);
  });

  it("moves usage to a final chunk with empty choices when asked", async () => {
    const out = await run([chunk({ content: "a" }), { ...chunk({ content: "" }, { usage }), choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }], true);
    expect(out).toHaveLength(3);
    expect(out.slice(0, 2).every((c) => c.usage === null)).toBe(true);
    expect(out[2]).toEqual({ ...base, choices: [], usage });
  });

  it("keeps usage that arrives on a chunk without choices", async () => {
    const out = await run([chunk({ content: "a" }), { ...base, choices: [], usage } as ChatCompletionChunk], true);
    expect(out.at(-1)).toEqual({ ...base, choices: [], usage });
  });
});
