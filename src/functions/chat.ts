import { app } from "@azure/functions";
import { chat } from "../chat/chat-handler.js";
import { ALL_METHODS } from "../http/handler.js";

// Registered for every method so that a wrong one gets our 405 problem, not the host's bare 404.
app.http("chat", { route: "chat", methods: [...ALL_METHODS], authLevel: "anonymous", handler: chat });
