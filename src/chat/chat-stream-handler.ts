import { callerDeadline } from "../http/caller-deadline.js";
import { fallbackAllowed } from "../http/fallback.js";
import { callerHandler } from "../http/handler.js";
import { sseResponse } from "../http/sse.js";
import { isModelError } from "../inference/index.js";
import { chatModelProblem, prepareChat } from "./prepare.js";
import { chatStreamFrames } from "./stream-events.js";
import { toolLoopDeadline, toolTurnBody } from "./tool-loop.js";

/**
 * `POST /api/chat/stream`: the same request as /api/chat, answered as server-sent events. Anything
 * that fails before the model accepted the request is a plain HTTP problem, not a stream.
 */
export const chatStream = callerHandler(
  async (request, { runtime, requestId, meter, caller }) => {
    const prepared = await prepareChat(request, runtime, { meter, callerId: caller.id });
    // A tool loop runs several model calls and tools; all of them together get one deadline.
    const callerSignal = callerDeadline(request);
    const deadline = prepared.tools ? toolLoopDeadline(runtime.config.modelTimeoutMs, callerSignal) : callerSignal;
    const deadlineAt = Date.now() + runtime.config.modelTimeoutMs;
    let chunks;
    try {
      const body = prepared.tools ? toolTurnBody(prepared, prepared.tools, [...prepared.body.messages], false) : prepared.body;
      const first = await runtime.models.withFallback(prepared.port, fallbackAllowed(request), (port) =>
        // One deadline for the request: a fallback gets what is left of it, not a fresh budget.
        port.stream(body, { extraParameters: prepared.extraParameters, signal: deadline, meter, callerId: caller.id, deadlineAt }),
      );
      chunks = first.result;
      // Every later turn, and the start event, belong to the deployment that answered.
      prepared.port = first.port;
    } catch (error) {
      throw isModelError(error) ? chatModelProblem(error) : error;
    }
    return sseResponse(chatStreamFrames(chunks, prepared, requestId, runtime.config.streamHeartbeatMs, deadline), { "x-model-deployment": prepared.port.alias });
  },
  { methods: ["POST"] },
);
