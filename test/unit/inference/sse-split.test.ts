import { Readable } from "node:stream";
import { createSseStream } from "@azure/core-sse";
import { describe, expect, it } from "vitest";
import { decodeChunks } from "../../../src/inference/sse-chunks.js";

const chunk = (content: string) => JSON.stringify({ id: "1", created: 0, model: "m", choices: [{ index: 0, delta: { content }, finish_reason: null }] });
/** Two events in one body, with a comment, CRLF line ends and a character that takes several UTF-8 bytes. */
const body = Buffer.from(`: keep-alive\r\ndata: ${chunk("héllo 👋")}\r\n\r\ndata: ${chunk(" wörld")}\n\ndata: [DONE]\n\n`, "utf8");

async function decode(parts: Buffer[]): Promise<string> {
  let text = "";
  for await (const c of decodeChunks(createSseStream(Readable.from(parts)))) text += c.choices[0]?.delta.content ?? "";
  return text;
}

describe("the upstream stream, split anywhere", () => {
  it("reassembles events split at every byte offset: mid-line, mid-UTF-8, between CR and LF", async () => {
    for (let offset = 1; offset < body.length; offset++) {
      expect(await decode([body.subarray(0, offset), body.subarray(offset)]), `split at ${offset}`).toBe("héllo 👋 wörld");
    }
  });

  it("reassembles events that arrive a byte at a time", async () => {
    expect(await decode([...body].map((byte) => Buffer.from([byte])))).toBe("héllo 👋 wörld");
  });
});
