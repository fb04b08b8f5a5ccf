import { app, type HttpHandler, type InvocationContext } from "@azure/functions";
import type { ChatPart } from "../chat/chat-parts.js";
import { prepareChat } from "../chat/prepare.js";
import { ALL_METHODS, callerHandler } from "../http/handler.js";
import { refuseStreamWithKey } from "../http/idempotency.js";
import { logProblem } from "../http/log-problem.js";
import { openRouteChat } from "../http/open-route-chat.js";
import { readJsonBody } from "../http/read-json-body.js";
import { type SseEvent, sseEventResponse } from "../http/sse.js";
import { problemBody } from "../lib/problem.js";
import { getRuntime, type Runtime } from "../runtime.js";
import { countStreamProblem } from "../telemetry/count-problem.js";

/**
 * `POST /api/chat/stream`: the same request as /api/chat, answered as server-sent events. Anything
 * that fails before the model accepted the request is a plain HTTP problem, not a stream.
 */
export function chatStreamHandler(runtime: Runtime): HttpHandler {
  return callerHandler(
    runtime,
    async (request, { requestId, meter, caller, invocation }) => {
      refuseStreamWithKey(request);
      const prepared = await prepareChat(await readJsonBody(request, runtime.config.chat.maxBodyBytes), runtime, { meter, callerId: caller.id });
      const run = await openRouteChat(prepared, request, runtime, { stream: true, warn: (message) => invocation.warn(message) });
      const toEvent = (part: ChatPart) => chatEvent(part, requestId, invocation);
      return sseEventResponse(run.parts, { heartbeatMs: runtime.config.streamHeartbeatMs, headers: { "x-model-deployment": run.alias }, toEvent });
    },
    { methods: ["POST"] },
  );
}

/** The app contract's event for one part: the part's fields, without its type. */
function chatEvent(part: ChatPart, requestId: string, log: InvocationContext): SseEvent {
  switch (part.type) {
    case "done":
      return { event: "done", data: { finish_reason: part.response.finish_reason, usage: part.response.usage, message: part.response.message } };
    case "error":
      logProblem(part.problem, log, "Stream failed after its first byte");
      countStreamProblem(part.problem);
      return { event: "error", data: problemBody(part.problem, requestId) };
    default: {
      const { type, ...data } = part;
      return { event: type, data };
    }
  }
}

// Registered for every method so that a wrong one gets our 405 problem, not the host's bare 404.
app.http("chatStream", { route: "chat/stream", methods: [...ALL_METHODS], authLevel: "anonymous", handler: chatStreamHandler(getRuntime()) });
