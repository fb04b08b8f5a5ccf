import { callerDeadline } from "../http/caller-deadline.js";
import { fallbackAllowed } from "../http/fallback.js";
import { callerHandler } from "../http/handler.js";
import { HttpProblem } from "../http/problem.js";
import { isModelError } from "../inference/index.js";
import { toChatResponse } from "./from-wire.js";
import { chatModelProblem, prepareChat } from "./prepare.js";
import { loopTimeout } from "./stream-events.js";
import { completeWithTools, toolLoopDeadline } from "./tool-loop.js";

/** `POST /api/chat`: one completion, in the app contract, for frontends and Logic Apps. */
export const chat = callerHandler(
  async (request, { runtime, meter, caller }) => {
    const prepared = await prepareChat(request, runtime, { meter, callerId: caller.id });
    if (prepared.request.stream) {
      throw new HttpProblem(400, "invalid_request", "Bad Request", "This route answers with JSON; POST to /api/chat/stream for a stream.", {}, { param: "stream", rule: "route" });
    }
    try {
      const { ids, request: chatRequest, validateOutput, tools } = prepared;
      const allowed = fallbackAllowed(request);
      const callerSignal = callerDeadline(request);
      if (!tools) {
        // One deadline for the request: a fallback gets what is left of it, not a fresh budget.
        const deadlineAt = Date.now() + runtime.config.modelTimeoutMs;
        const options = { extraParameters: prepared.extraParameters, signal: callerSignal, meter, callerId: caller.id, deadlineAt };
        const { result, port } = await runtime.models.withFallback(prepared.port, allowed, (p) => p.complete(prepared.body, options));
        return answered(port.alias, toChatResponse(result, port.alias, ids, chatRequest, validateOutput));
      }
      // A tool loop runs several model calls and tools; all of them together get one deadline.
      const deadline = toolLoopDeadline(runtime.config.modelTimeoutMs, callerSignal);
      const { completion, usage, port } = await completeWithTools(prepared, tools, deadline, (call) =>
        runtime.models.withFallback(prepared.port, allowed, call),
      ).catch((error: unknown) => {
        throw deadline.aborted ? loopTimeout() : error;
      });
      return answered(port.alias, toChatResponse(completion, port.alias, ids, chatRequest, validateOutput, { steps: tools.steps, usage }));
    } catch (error) {
      throw isModelError(error) ? chatModelProblem(error) : error;
    }
  },
  { methods: ["POST"] },
);

function answered(alias: string, jsonBody: unknown) {
  return { status: 200, headers: { "x-model-deployment": alias }, jsonBody };
}
