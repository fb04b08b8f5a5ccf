import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import type { Fault } from "./fault-queue.js";
import type { Reply } from "./generate-reply.js";
import { sendJson, sleep, untilClosed, write } from "./http-io.js";
import type { LoggedRequest } from "./request-log.js";

export interface Timing {
  ttftMs: number;
  tokenDelayMs: number;
}

export interface Answer {
  reply: Reply;
  modelName: string;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  logprobs: boolean;
  timing: Timing;
  fault: Fault | undefined;
  log: LoggedRequest;
  /** Aborted when the client disconnects. */
  signal: AbortSignal;
}

const logprobsOf = (tokens: string[]) => ({
  content: tokens.map((token) => ({ token, logprob: -0.01, bytes: [...Buffer.from(token)], top_logprobs: [] })),
});

/** Answers with one `chat.completion` JSON body after the whole generation time has passed. */
export async function writeCompletion(res: ServerResponse, answer: Answer): Promise<void> {
  const { reply, timing, fault } = answer;
  await sleep(timing.ttftMs + timing.tokenDelayMs * reply.tokens.length, answer.signal);
  if (fault?.reset_after_chunks !== undefined) return destroy(res, answer, "reset");
  if (fault?.stall_after_chunks !== undefined) return stall(res, answer);
  const body = {
    id: randomUUID().replace(/-/g, ""),
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: answer.modelName,
    choices: fault?.empty_choices_chunk
      ? []
      : [
          {
            index: 0,
            message: { role: "assistant", content: reply.tokens.join(""), tool_calls: reply.toolCalls.length > 0 ? reply.toolCalls : null },
            finish_reason: reply.finishReason,
            logprobs: answer.logprobs ? logprobsOf(reply.tokens) : null,
          },
        ],
    usage: answer.usage,
  };
  if (fault?.malformed_chunk) {
    res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
    res.end(JSON.stringify(body).slice(0, 20));
    answer.log.outcome = { status: 200, fault: "malformed" };
    return;
  }
  sendJson(res, 200, body);
  answer.log.outcome = { status: 200 };
}

/**
 * Streams `chat.completion.chunk` events: a role chunk, one chunk per token (or one with the tool
 * calls, without `index`, as Mistral on Azure sends them), a last chunk with finish_reason and usage,
 * then `data: [DONE]`. Every frame ends with a blank line.
 */
export async function writeStream(res: ServerResponse, answer: Answer): Promise<void> {
  const { reply, timing, fault } = answer;
  const id = randomUUID().replace(/-/g, "");
  const created = Math.floor(Date.now() / 1000);
  const chunk = (choice: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    id,
    object: "chat.completion.chunk",
    created,
    model: answer.modelName,
    choices: [{ index: 0, finish_reason: null, logprobs: null, ...choice }],
    ...extra,
  });

  const frames: unknown[] = [];
  if (fault?.empty_choices_chunk) {
    frames.push({ id: "", object: "", created: 0, model: "", choices: [], prompt_filter_results: [{ prompt_index: 0, content_filter_results: {} }] });
  }
  frames.push(chunk({ delta: { role: "assistant", content: "" } }));
  for (const token of reply.tokens) {
    frames.push(chunk({ delta: { content: token }, logprobs: answer.logprobs ? logprobsOf([token]) : null }));
  }
  if (reply.toolCalls.length > 0) frames.push(chunk({ delta: { content: "", tool_calls: reply.toolCalls } }));
  frames.push(chunk({ delta: { content: "" }, finish_reason: reply.finishReason }, { usage: answer.usage }));

  // Headers go out at once, as a streaming server sends them; the first token follows after the TTFT.
  res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" });
  res.flushHeaders();
  await sleep(timing.ttftMs, answer.signal);
  const malformedAt = fault?.malformed_chunk === true ? 1 : typeof fault?.malformed_chunk === "number" ? fault.malformed_chunk : -1;
  for (const [sent, frame] of frames.entries()) {
    if (answer.signal.aborted) return;
    answer.log.outcome = { ...answer.log.outcome, status: 200, stream: true, chunks: sent };
    if (fault?.reset_after_chunks === sent) return destroy(res, answer, "reset");
    if (fault?.stall_after_chunks === sent) return stall(res, answer);
    if (malformedAt === sent) await write(res, 'data: {"id": "broken", "choices": [\n\n');
    // NOTE: the first content chunk follows the role chunk at once; later ones are paced per token.
    if (sent > 1) await sleep(timing.tokenDelayMs, answer.signal);
    await write(res, `data: ${JSON.stringify(frame)}\n\n`);
  }
  answer.log.outcome = { status: 200, stream: true, chunks: frames.length, done: !fault?.omit_done };
  if (!fault?.omit_done) await write(res, "data: [DONE]\n\n");
  res.end();
}

/**
 * Drops the connection. Mid-stream, the frames already written reach the client first and the
 * connection then closes without the stream's end; before any answer, the client gets a TCP reset.
 */
async function destroy(res: ServerResponse, answer: Answer, fault: string): Promise<void> {
  answer.log.outcome = { ...answer.log.outcome, fault };
  const socket = res.socket;
  if (!socket) return;
  if (res.headersSent) {
    await new Promise<void>((resolve) => socket.write("", () => resolve()));
    socket.destroy();
  } else {
    socket.resetAndDestroy();
  }
}

async function stall(res: ServerResponse, answer: Answer): Promise<void> {
  answer.log.outcome = { ...answer.log.outcome, fault: "stall" };
  await untilClosed(res);
}
