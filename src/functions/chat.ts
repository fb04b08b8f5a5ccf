import { app, type HttpHandler } from "@azure/functions";
import { collectChat, openChat } from "../chat/engine.js";
import { CHAT_MAX_BODY_BYTES, prepareChat } from "../chat/prepare.js";
import { callerDeadline } from "../http/caller-deadline.js";
import { fallbackAllowed } from "../http/fallback.js";
import { ALL_METHODS, callerHandler } from "../http/handler.js";
import { readJsonBody } from "../http/read-json-body.js";
import { HttpProblem } from "../lib/problem.js";
import { toProblem } from "../lib/to-problem.js";
import { getRuntime, type Runtime } from "../runtime.js";

/** `POST /api/chat`: one completion, in the app contract, for frontends and Logic Apps. */
export function chatHandler(runtime: Runtime): HttpHandler {
  return callerHandler(
    runtime,
    async (request, { meter, caller, invocation }) => {
      const prepared = await prepareChat(await readJsonBody(request, CHAT_MAX_BODY_BYTES), runtime, { meter, callerId: caller.id });
      if (prepared.request.stream) {
        throw new HttpProblem({
          status: 400,
          code: "invalid_request",
          detail: "This route answers with JSON; POST to /api/chat/stream for a stream.",
          extensions: { param: "stream", rule: "route" },
        });
      }
      const run = await openChat(prepared, {
        models: runtime.models,
        allowFallback: fallbackAllowed(request),
        stream: false,
        // One deadline for the request: a fallback gets what is left of it, not a fresh budget.
        deadlineAt: Date.now() + runtime.config.modelTimeoutMs,
        signal: callerDeadline(request),
        warn: (message) => invocation.warn(message),
      }).catch((error: unknown) => {
        throw toProblem(error, { route: "app" });
      });
      return { status: 200, headers: { "x-model-deployment": run.alias }, jsonBody: await collectChat(run.parts) };
    },
    { methods: ["POST"] },
  );
}

// Registered for every method so that a wrong one gets our 405 problem, not the host's bare 404.
app.http("chat", { route: "chat", methods: [...ALL_METHODS], authLevel: "anonymous", handler: chatHandler(getRuntime()) });
