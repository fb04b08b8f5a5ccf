import { app } from "@azure/functions";
import { anonymousHandler } from "../http/handler.js";
import { getRuntime } from "../runtime.js";

/** The OpenAPI 2.0 document of the app contract, for Logic Apps custom connectors and other tools. */
export const openapi = anonymousHandler(
  getRuntime(),
  async (_request, { runtime }) => {
    // The host comes from the platform's settings, not the request's headers: see readPublicHost.
    // Loaded on first use: building the schemas costs start-up time every other route would pay.
    const { openApiDocument } = await import("../openapi/document.js");
    return { status: 200, headers: { "cache-control": "public, max-age=300" }, jsonBody: openApiDocument(runtime.config.publicHost) };
  },
  { methods: ["GET"], cors: "public" },
);

app.http("openapi", { route: "openapi.json", methods: ["GET", "OPTIONS"], authLevel: "anonymous", handler: openapi });
