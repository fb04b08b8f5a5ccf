import { app } from "@azure/functions";
import { chatCompletions } from "../dropin/chat-completions-handler.js";

/** Drop-in chat completions at the path the Azure AI Model Inference clients use. */
app.http("chatCompletions", { route: "chat/completions", methods: ["POST"], authLevel: "anonymous", handler: chatCompletions });
