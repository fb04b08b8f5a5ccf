import { countStreamProblem } from "../telemetry/count-problem.js";
import { callerDeadline } from "../http/caller-deadline.js";
import { fallbackAllowed } from "../http/fallback.js";
import { callerHandler } from "../http/handler.js";
import type { InvocationContext } from "@azure/functions";
import { logProblem } from "../http/log-problem.js";
import { toProblem } from "../lib/to-problem.js";
import { readJsonBody } from "../http/read-json-body.js";
import { sdkError } from "../http/sdk-error.js";
import { dataFrame, sseResponse } from "../http/sse.js";
import type { ChatCompletionChunk } from "../inference/index.js";
import { dropInChunks } from "./stream-chunks.js";
import { toUpstreamRequest } from "./upstream-request.js";

/** Long conversations fit comfortably; anything larger is refused before it is read. */
export const DROP_IN_MAX_BODY_BYTES = 1024 * 1024;

/**
 * The Azure AI Model Inference / OpenAI chat completions protocol, for SDK clients pointed at this app
 * instead of the model. Errors use the SDK error shape.
 */
export const chatCompletions = callerHandler(
  async (request, { runtime, requestId, meter, caller, invocation }) => {
    const upstream = toUpstreamRequest(await readJsonBody(request, DROP_IN_MAX_BODY_BYTES), request, runtime.models, runtime.config.maxTokens);
    // One deadline for the request: a fallback gets what is left of it, not a fresh budget.
    const deadlineAt = Date.now() + runtime.config.modelTimeoutMs;
    const options = { extraParameters: upstream.extraParameters, signal: callerDeadline(request), meter, callerId: caller.id, deadlineAt, warn: (message: string) => invocation.warn(message) };
    const allowed = fallbackAllowed(request);
    if (!upstream.stream) {
      const { result, port } = await runtime.models.withFallback(upstream.port, allowed, (p) => p.complete(upstream.body, options));
      return { status: 200, headers: { "x-model-deployment": port.alias }, jsonBody: result };
    }
    // Resolves once the model accepted the request: failures up to here are plain HTTP errors.
    const { result: chunks, port } = await runtime.models.withFallback(upstream.port, allowed, (p) => p.stream(upstream.body, options));
    return sseResponse(frames(dropInChunks(chunks, upstream.includeUsage), requestId, invocation), { "x-model-deployment": port.alias });
  },
  { errors: "sdk", methods: ["POST"] },
);

/** The chunks as SSE frames, then `[DONE]`; a failure after the first byte is one final error frame. */
async function* frames(chunks: AsyncIterable<ChatCompletionChunk>, requestId: string, log: InvocationContext): AsyncGenerator<string> {
  try {
    for await (const chunk of chunks) yield dataFrame(JSON.stringify(chunk));
  } catch (error) {
    const problem = toProblem(error, { route: "dropin" });
    logProblem(problem, log, "Stream failed after its first byte");
    countStreamProblem(problem);
    yield dataFrame(JSON.stringify({ error: sdkError(problem, requestId) }));
    return;
  }
  yield dataFrame("[DONE]");
}
