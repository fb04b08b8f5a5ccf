import { callerDeadline } from "../http/caller-deadline.js";
import { fallbackAllowed } from "../http/fallback.js";
import { callerHandler } from "../http/handler.js";
import { HttpProblem } from "../http/problem.js";
import { readJsonBody } from "../http/read-json-body.js";
import { collectChat, openChat } from "./engine.js";
import { CHAT_MAX_BODY_BYTES, chatProblem, prepareChat } from "./prepare.js";

/** `POST /api/chat`: one completion, in the app contract, for frontends and Logic Apps. */
export const chat = callerHandler(
  async (request, { runtime, meter, caller }) => {
    const prepared = await prepareChat(await readJsonBody(request, CHAT_MAX_BODY_BYTES), runtime, { meter, callerId: caller.id });
    if (prepared.request.stream) {
      throw new HttpProblem(400, "invalid_request", "Bad Request", "This route answers with JSON; POST to /api/chat/stream for a stream.", {}, { param: "stream", rule: "route" });
    }
    const run = await openChat(prepared, {
      models: runtime.models,
      allowFallback: fallbackAllowed(request),
      stream: false,
      // One deadline for the request: a fallback gets what is left of it, not a fresh budget.
      deadlineAt: Date.now() + runtime.config.modelTimeoutMs,
      signal: callerDeadline(request),
    }).catch((error: unknown) => {
      throw chatProblem(error);
    });
    return { status: 200, headers: { "x-model-deployment": run.alias }, jsonBody: await collectChat(run.parts) };
  },
  { methods: ["POST"] },
);
