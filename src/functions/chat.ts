import { app, type HttpHandler, type HttpRequest } from "@azure/functions";
import { collectChat } from "../chat/engine.js";
import { prepareChat } from "../chat/prepare.js";
import { ALL_METHODS, callerHandler } from "../http/handler.js";
import { idempotencyKey, idempotent } from "../http/idempotency.js";
import { openRouteChat } from "../http/open-route-chat.js";
import { readJsonBody } from "../http/read-json-body.js";
import { HttpProblem } from "../lib/problem.js";
import type { ModelMeter } from "../quotas/meter.js";
import { getRuntime, type Runtime } from "../runtime.js";

/** `POST /api/chat`: one completion, in the app contract, for frontends and Logic Apps. */
export function chatHandler(runtime: Runtime): HttpHandler {
  return callerHandler(
    runtime,
    async (request, { meter, caller, invocation, requestId }) => {
      const key = idempotencyKey(request);
      const body = await readJsonBody(request, runtime.config.chat.maxBodyBytes);
      const answer = () => chat(request, body, { meter, callerId: caller.id, warn: (message) => invocation.warn(message) });
      return idempotent({ store: runtime.idempotency, callerId: caller.id, key, route: "chat", body, errors: "problem", requestId }, answer);
    },
    { methods: ["POST"] },
  );

  async function chat(request: HttpRequest, body: unknown, who: { meter: ModelMeter | undefined; callerId: string; warn: (message: string) => void }) {
    const prepared = await prepareChat(body, runtime, who);
    if (prepared.request.stream) {
      throw new HttpProblem({
        status: 400,
        code: "invalid_request",
        detail: "This route answers with JSON; POST to /api/chat/stream for a stream.",
        extensions: { param: "stream", rule: "route" },
      });
    }
    const run = await openRouteChat(prepared, request, runtime, { stream: false, warn: who.warn });
    return { status: 200, headers: { "x-model-deployment": run.alias }, jsonBody: await collectChat(run.parts) };
  }
}

// Registered for every method so that a wrong one gets our 405 problem, not the host's bare 404.
app.http("chat", { route: "chat", methods: [...ALL_METHODS], authLevel: "anonymous", handler: chatHandler(getRuntime()) });
