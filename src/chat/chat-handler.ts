import { callerDeadline } from "../http/caller-deadline.js";
import { fallbackAllowed } from "../http/fallback.js";
import { callerHandler } from "../http/handler.js";
import { HttpProblem } from "../lib/problem.js";
import { readJsonBody } from "../http/read-json-body.js";
import { collectChat, openChat } from "./engine.js";
import { CHAT_MAX_BODY_BYTES, prepareChat } from "./prepare.js";
import { toProblem } from "../lib/to-problem.js";

/** `POST /api/chat`: one completion, in the app contract, for frontends and Logic Apps. */
export const chat = callerHandler(
  async (request, { runtime, meter, caller, invocation }) => {
    const prepared = await prepareChat(await readJsonBody(request, CHAT_MAX_BODY_BYTES), runtime, { meter, callerId: caller.id });
    if (prepared.request.stream) {
      throw new HttpProblem({ status: 400, code: "invalid_request", title: "Bad Request", detail: "This route answers with JSON; POST to /api/chat/stream for a stream.", extensions: { param: "stream", rule: "route" } });
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
