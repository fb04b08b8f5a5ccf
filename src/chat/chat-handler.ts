import { callerHandler } from "../http/handler.js";
import { modelErrorProblem } from "../http/model-error-problem.js";
import { HttpProblem } from "../http/problem.js";
import { readJsonBody } from "../http/read-json-body.js";
import { isModelError, type ModelPort, type ModelRegistry } from "../inference/index.js";
import { toChatResponse } from "./from-wire.js";
import { outputValidator } from "./json-output.js";
import { ToolCallIds } from "./tool-call-ids.js";
import { toWireRequest } from "./to-wire.js";
import { validateChatRequest } from "./validate-request.js";

/** A request body larger than this is refused before it is read to the end. */
export const CHAT_MAX_BODY_BYTES = 256 * 1024;

/** `POST /api/chat`: one completion, in the app contract, for frontends and Logic Apps. */
export const chat = callerHandler(
  async (request, { runtime }) => {
    const chatRequest = validateChatRequest(await readJsonBody(request, CHAT_MAX_BODY_BYTES));
    if (chatRequest.stream) {
      throw new HttpProblem(400, "invalid_request", "Bad Request", "This route answers with JSON; POST to /api/chat/stream for a stream.", {}, { param: "stream", rule: "route" });
    }
    const validate = outputValidator(chatRequest);
    const port = deploymentFor(chatRequest.model, runtime.models);
    const ids = new ToolCallIds();
    const { body, extraParameters } = toWireRequest(chatRequest, ids);
    try {
      const completion = await port.complete(body, { extraParameters });
      return { status: 200, jsonBody: toChatResponse(completion, port.alias, ids, chatRequest, validate) };
    } catch (error) {
      throw isModelError(error) ? appModelProblem(modelErrorProblem(error)) : error;
    }
  },
  { methods: ["POST"] },
);

function deploymentFor(model: string | undefined, models: ModelRegistry): ModelPort {
  const port = models.find(model);
  if (port) return port;
  throw new HttpProblem(400, "model_not_found", "Bad Request", `Unknown model "${model}". Known models: ${models.aliases.join(", ")}.`, {}, { param: "model", rule: "enum" });
}

/** The app contract names a filtered prompt `content_filtered`; the model's message stays. */
function appModelProblem(problem: HttpProblem): HttpProblem {
  if (problem.code !== "content_filter") return problem;
  return new HttpProblem(400, "content_filtered", "Content Filtered", problem.detail, problem.headers, problem.extensions);
}
