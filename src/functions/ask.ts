import { app, type HttpHandler, type HttpRequest } from "@azure/functions";
import { askToChat, chatToAsk } from "../chat/ask.js";
import { collectChat } from "../chat/engine.js";
import { prepareChat } from "../chat/prepare.js";
import { ALL_METHODS, callerHandler } from "../http/handler.js";
import { idempotencyKey, idempotent } from "../http/idempotency.js";
import { openRouteChat } from "../http/open-route-chat.js";
import { readJsonBody } from "../http/read-json-body.js";
import type { ModelMeter } from "../quotas/meter.js";
import { getRuntime, type Runtime } from "../runtime.js";

/**
 * `POST /api/ask`: a prompt (and optional system text, model, response format and earlier
 * conversation) in; the answer's text, its parsed JSON in JSON mode, and the conversation to send
 * next time out. The Logic Apps connector's simple operation, on the same engine as /api/chat.
 */
export function askHandler(runtime: Runtime): HttpHandler {
  return callerHandler(
    runtime,
    async (request, { meter, caller, invocation, requestId }) => {
      const key = idempotencyKey(request);
      const body = await readJsonBody(request, runtime.config.chat.maxBodyBytes);
      const answer = () => ask(request, body, { meter, callerId: caller.id, warn: (message) => invocation.warn(message) });
      return idempotent({ store: runtime.idempotency, callerId: caller.id, key, route: "ask", body, errors: "problem", requestId }, answer);
    },
    { methods: ["POST"] },
  );

  async function ask(request: HttpRequest, body: unknown, who: { meter: ModelMeter | undefined; callerId: string; warn: (message: string) => void }) {
    const chat = await askToChat(body);
    const prepared = await prepareChat(chat, runtime, who);
    const run = await openRouteChat(prepared, request, runtime, { stream: false, warn: who.warn });
    const response = await collectChat(run.parts);
    return { status: 200, headers: { "x-model-deployment": run.alias }, jsonBody: chatToAsk(chat, response) };
  }
}

// Registered for every method so that a wrong one gets our 405 problem, not the host's bare 404.
app.http("ask", { route: "ask", methods: [...ALL_METHODS], authLevel: "anonymous", handler: askHandler(getRuntime()) });
