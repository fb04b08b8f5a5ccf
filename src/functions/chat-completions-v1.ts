import { app } from "@azure/functions";
import { ALL_METHODS } from "../http/handler.js";
import { getRuntime } from "../runtime.js";
import { chatCompletionsHandler } from "./chat-completions.js";

/**
 * The drop-in route at the path the OpenAI and Mistral SDKs use (base URL `.../api/v1`, or `.../api` for
 * Mistral's), where Mistral's own fields (`safe_prompt`, `random_seed`, ...) are first-class.
 */
app.http("chatCompletionsV1", {
  route: "v1/chat/completions",
  methods: [...ALL_METHODS],
  authLevel: "anonymous",
  handler: chatCompletionsHandler(getRuntime(), { mistralFields: true }),
});
