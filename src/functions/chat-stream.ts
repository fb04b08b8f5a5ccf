import { app } from "@azure/functions";
import { chatStream } from "../chat/chat-stream-handler.js";
import { ALL_METHODS } from "../http/handler.js";

// Registered for every method so that a wrong one gets our 405 problem, not the host's bare 404.
app.http("chatStream", { route: "chat/stream", methods: [...ALL_METHODS], authLevel: "anonymous", handler: chatStream });
