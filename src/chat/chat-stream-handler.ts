import { callerDeadline } from "../http/caller-deadline.js";
import { fallbackAllowed } from "../http/fallback.js";
import { callerHandler } from "../http/handler.js";
import { problemResponse } from "../http/problem.js";
import { readJsonBody } from "../http/read-json-body.js";
import { type SseEvent, sseEventResponse } from "../http/sse.js";
import { countStreamProblem } from "../telemetry/count-problem.js";
import type { ChatPart } from "./chat-parts.js";
import { openChat } from "./engine.js";
import { CHAT_MAX_BODY_BYTES, chatProblem, prepareChat } from "./prepare.js";

/**
 * `POST /api/chat/stream`: the same request as /api/chat, answered as server-sent events. Anything
 * that fails before the model accepted the request is a plain HTTP problem, not a stream.
 */
export const chatStream = callerHandler(
  async (request, { runtime, requestId, meter, caller }) => {
    const prepared = await prepareChat(await readJsonBody(request, CHAT_MAX_BODY_BYTES), runtime, { meter, callerId: caller.id });
    const run = await openChat(prepared, {
      models: runtime.models,
      allowFallback: fallbackAllowed(request),
      stream: true,
      // One deadline for the request: a fallback gets what is left of it, not a fresh budget.
      deadlineAt: Date.now() + runtime.config.modelTimeoutMs,
      signal: callerDeadline(request),
    }).catch((error: unknown) => {
      throw chatProblem(error);
    });
    return sseEventResponse(chatEvents(run.parts, requestId), { heartbeatMs: runtime.config.streamHeartbeatMs, headers: { "x-model-deployment": run.alias } });
  },
  { methods: ["POST"] },
);

/** The app contract's events, one per part: the part's fields, without its type. */
async function* chatEvents(parts: AsyncIterable<ChatPart>, requestId: string): AsyncGenerator<SseEvent> {
  for await (const part of parts) {
    switch (part.type) {
      case "start":
      case "delta":
      case "tool_call":
      case "tool_result": {
        const { type, ...data } = part;
        yield { event: type, data };
        break;
      }
      case "done":
        yield { event: "done", data: { finish_reason: part.response.finish_reason, usage: part.response.usage, message: part.response.message } };
        break;
      case "error":
        countStreamProblem(part.problem);
        yield { event: "error", data: problemResponse(part.problem, requestId).jsonBody };
        break;
    }
  }
}
