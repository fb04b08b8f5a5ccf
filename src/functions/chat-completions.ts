import { app, type HttpHandler, type InvocationContext } from "@azure/functions";
import { withMistralFields } from "../dropin/mistral-fields.js";
import { dropInChunks } from "../dropin/stream-chunks.js";
import { toUpstreamRequest } from "../dropin/upstream-request.js";
import { callerDeadline } from "../http/caller-deadline.js";
import { fallbackAllowed } from "../http/fallback.js";
import { ALL_METHODS, callerHandler } from "../http/handler.js";
import { idempotencyKey, idempotent, refuseStreamWithKey } from "../http/idempotency.js";
import { logProblem } from "../http/log-problem.js";
import { readJsonBody } from "../http/read-json-body.js";
import { sdkError } from "../http/sdk-error.js";
import { dataFrame, sseResponse } from "../http/sse.js";
import { toProblem } from "../lib/to-problem.js";
import type { ChatCompletionChunk } from "../lib/wire.js";
import { getRuntime, type Runtime } from "../runtime.js";
import { countStreamProblem } from "../telemetry/count-problem.js";

/** Long conversations fit comfortably; anything larger is refused before it is read. */
export const DROP_IN_MAX_BODY_BYTES = 1024 * 1024;

/**
 * The Azure AI Model Inference / OpenAI chat completions protocol, for SDK clients pointed at this app
 * instead of the model. Errors use the SDK error shape. `mistralFields`: the `/api/v1` twin, where the
 * OpenAI and Mistral SDKs send their requests, also takes Mistral's own fields (dropin/mistral-fields.ts);
 * `/api/chat/completions` keeps the Azure behaviour exactly.
 */
export function chatCompletionsHandler(runtime: Runtime, { mistralFields = false }: { mistralFields?: boolean } = {}): HttpHandler {
  return callerHandler(
    runtime,
    async (request, { requestId, meter, caller, invocation }) => {
      const key = idempotencyKey(request);
      const body = await readJsonBody(request, DROP_IN_MAX_BODY_BYTES);
      const checked = toUpstreamRequest(body, request, runtime.models, runtime.config.maxTokens);
      const upstream = mistralFields ? withMistralFields(checked) : checked;
      const options = {
        extraParameters: upstream.extraParameters,
        signal: callerDeadline(request),
        meter,
        callerId: caller.id,
        // One deadline for the request: a fallback gets what is left of it, not a fresh budget.
        deadlineAt: Date.now() + runtime.config.modelTimeoutMs,
        warn: (message: string) => invocation.warn(message),
      };
      const allowed = fallbackAllowed(request);
      if (!upstream.stream) {
        const answer = async () => {
          const { result, port } = await runtime.models.withFallback(upstream.port, allowed, (p) => p.complete(upstream.body, options));
          return { status: 200, headers: { "x-model-deployment": port.alias }, jsonBody: result };
        };
        return idempotent({ store: runtime.idempotency, callerId: caller.id, key, route: "chat/completions", body, errors: "sdk", requestId }, answer);
      }
      if (key !== undefined) refuseStreamWithKey(request);
      // Resolves once the model accepted the request: failures up to here are plain HTTP errors.
      const { result: chunks, port } = await runtime.models.withFallback(upstream.port, allowed, (p) => p.stream(upstream.body, options));
      return sseResponse(frames(dropInChunks(chunks, upstream.includeUsage), requestId, invocation), { "x-model-deployment": port.alias });
    },
    { errors: "sdk", methods: ["POST"] },
  );
}

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

export const chatCompletions = chatCompletionsHandler(getRuntime());

/** Drop-in chat completions at the path the Azure AI Model Inference clients use. */
app.http("chatCompletions", { route: "chat/completions", methods: [...ALL_METHODS], authLevel: "anonymous", handler: chatCompletions });
