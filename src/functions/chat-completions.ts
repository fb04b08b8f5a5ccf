import { app } from "@azure/functions";
import { chatCompletions } from "../dropin/chat-completions-handler.js";
import { ALL_METHODS } from "../http/handler.js";

/** Drop-in chat completions at the path the Azure AI Model Inference clients use. */
app.http("chatCompletions", { route: "chat/completions", methods: [...ALL_METHODS], authLevel: "anonymous", handler: chatCompletions });
