import { app } from "@azure/functions";
import { ALL_METHODS } from "../http/handler.js";
import { chatCompletions } from "./chat-completions.js";

/** The same drop-in route at the OpenAI SDK's path: clients use base URL `.../api/v1`. */
app.http("chatCompletionsV1", { route: "v1/chat/completions", methods: [...ALL_METHODS], authLevel: "anonymous", handler: chatCompletions });
