import { app } from "@azure/functions";
import { recentReadiness } from "../health/readiness.js";
import { anonymousHandler } from "../http/handler.js";
import { getRuntime } from "../runtime.js";

/** Readiness: configuration, every model deployment and storage; 503 naming the failed checks. */
export const healthReady = anonymousHandler(getRuntime(), async (_request, { runtime }) => {
  const readiness = await recentReadiness(runtime);
  return {
    status: readiness.status === "ready" ? 200 : 503,
    headers: { "cache-control": "no-store" },
    jsonBody: readiness,
  };
});

app.http("healthReady", { route: "health/ready", methods: ["GET"], authLevel: "anonymous", handler: healthReady });
