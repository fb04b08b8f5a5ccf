import { callerHandler } from "../http/handler.js";
import { HttpProblem } from "../http/problem.js";
import { isModelError } from "../inference/index.js";
import { toChatResponse } from "./from-wire.js";
import { chatModelProblem, prepareChat } from "./prepare.js";

/** `POST /api/chat`: one completion, in the app contract, for frontends and Logic Apps. */
export const chat = callerHandler(
  async (request, { runtime }) => {
    const prepared = await prepareChat(request, runtime.models);
    if (prepared.request.stream) {
      throw new HttpProblem(400, "invalid_request", "Bad Request", "This route answers with JSON; POST to /api/chat/stream for a stream.", {}, { param: "stream", rule: "route" });
    }
    try {
      const completion = await prepared.port.complete(prepared.body, { extraParameters: prepared.extraParameters });
      return { status: 200, jsonBody: toChatResponse(completion, prepared.port.alias, prepared.ids, prepared.request, prepared.validateOutput) };
    } catch (error) {
      throw isModelError(error) ? chatModelProblem(error) : error;
    }
  },
  { methods: ["POST"] },
);
