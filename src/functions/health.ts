import { app } from "@azure/functions";
import { anonymousHandler } from "../http/handler.js";
import { getRuntime } from "../runtime.js";

/** Liveness: the process is up and its configuration loaded. Anonymous and free of secrets. */
export const health = anonymousHandler(getRuntime(), async () => ({
  status: 200,
  headers: { "cache-control": "no-store" },
  jsonBody: { status: "ok" },
}));

app.http("health", { route: "health", methods: ["GET"], authLevel: "anonymous", handler: health });
