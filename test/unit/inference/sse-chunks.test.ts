import { describe, expect, it } from "vitest";
import { ModelError } from "../../../src/inference/index.js";
import { decodeChunks } from "../../../src/inference/sse-chunks.js";

async function* events(...data: string[]) {
  for (const d of data) yield { data: d };
}

async function all<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

const chunk = (content: string) => JSON.stringify({ id: "1", created: 0, model: "m", choices: [{ index: 0, delta: { content }, finish_reason: null }] });

describe("decodeChunks", () => {
  it("yields parsed chunks and stops at [DONE], ignoring anything after it", async () => {
    const chunks = await all(decodeChunks(events(chunk("a"), "", chunk("b"), "[DONE]", "junk")));
    expect(chunks.map((c) => c.choices[0]?.delta.content)).toEqual(["a", "b"]);
  });

  it("fails on a chunk that is not JSON or has no choices", async () => {
    await expect(all(decodeChunks(events("{oops")))).rejects.toMatchObject({ code: "bad_upstream_response", kind: "protocol" });
    await expect(all(decodeChunks(events('{"id":"x"}')))).rejects.toMatchObject({ code: "bad_upstream_response" });
  });

  it("fails when the stream ends without [DONE]", async () => {
    const error = await all(decodeChunks(events(chunk("a")))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelError);
    expect(error).toMatchObject({ code: "upstream_stream_incomplete", status: 502 });
  });
});
