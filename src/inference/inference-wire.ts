import type { Readable } from "node:stream";
import type { KeyCredential, TokenCredential } from "@azure/core-auth";
import type { HttpClient } from "@azure/core-rest-pipeline";
import type { DeploymentConfig } from "../config/index.js";
import { createModelClient } from "./model-client.js";
import { lowerCaseHeaders, type ModelWire } from "./model-wire.js";

/** The Azure AI Model Inference API through @azure-rest/ai-inference (its pipeline, our transport). */
export function inferenceWire(
  deployment: DeploymentConfig,
  credential: KeyCredential | TokenCredential,
  scopes: readonly string[] | undefined,
  httpClient?: HttpClient,
): ModelWire {
  const client = createModelClient(deployment, credential, scopes, httpClient);
  // A Foundry endpoint (`.../models`) serves every deployment of the resource: `/info` names the one meant.
  const sharedEndpoint = /\/models$/.test(new URL(deployment.endpoint).pathname);
  return {
    api: "model-inference",
    async chat(body, { headers, signal, stream }) {
      const request = client.path("/chat/completions").post({ body: body as never, headers, abortSignal: signal });
      if (!stream) {
        const response = await request;
        return { status: Number(response.status), headers: lowerCaseHeaders(response.headers), body: response.body };
      }
      const response = await request.asNodeStream();
      return { status: Number(response.status), headers: lowerCaseHeaders(response.headers), stream: response.body as Readable | undefined };
    },
    async info(signal) {
      const query = sharedEndpoint ? { queryParameters: { model: deployment.model } } : {};
      const response = await client.path("/info").get({ abortSignal: signal, ...query });
      return { status: Number(response.status), headers: lowerCaseHeaders(response.headers), body: response.body };
    },
  };
}
