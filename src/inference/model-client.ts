import type { KeyCredential, TokenCredential } from "@azure/core-auth";
import type { HttpClient } from "@azure/core-rest-pipeline";
import type { ModelClient } from "@azure-rest/ai-inference";
import type { DeploymentConfig } from "../config/index.js";

const USER_AGENT = "mistral-functions/0.1";

/**
 * Pipeline steps a gateway does not want on every call: retries are ours (and off here), redirects
 * are never followed, bodies are JSON and SSE (no forms, no compression to undo on a stream), and
 * spans are recorded by our telemetry for streamed and non-streamed calls alike.
 */
const UNUSED_POLICIES = [
  // Our transport (UndiciHttpClient) connects directly; outbound proxies are not supported.
  "proxyPolicy",
  "defaultRetryPolicy",
  "redirectPolicy",
  "decompressResponsePolicy",
  "formDataPolicy",
  "multipartPolicy",
  "tracingPolicy",
  "InferenceTracingPolicy",
];

/**
 * The @azure-rest/ai-inference client of one deployment. The SDK is loaded on first use, not at
 * start-up: routes that never call a model (health) answer without paying for it.
 */
export function createModelClient(
  deployment: DeploymentConfig,
  credential: KeyCredential | TokenCredential,
  scopes: readonly string[] | undefined,
  httpClient?: HttpClient,
): ModelClient {
  // NOTE: require, not import(): a dynamic import() would load these packages' ESM builds beside the
  // CommonJS ones the rest of the app uses.
  const { default: createClient } = require("@azure-rest/ai-inference") as typeof import("@azure-rest/ai-inference");
  const client = createClient(deployment.endpoint, credential, {
    apiVersion: deployment.apiVersion,
    // NOTE: the SDK's retry policy has no deadline and obeys any Retry-After; retries are ours to own.
    retryOptions: { maxRetries: 0 },
    allowInsecureConnection: deployment.endpoint.startsWith("http://"),
    userAgentOptions: { userAgentPrefix: USER_AGENT },
    // The SDK's default scope is Azure ML's; Entra deployments name theirs (Foundry's by default).
    ...(scopes ? { credentials: { scopes: [...scopes] } } : {}),
    ...(httpClient ? { httpClient } : {}),
  });
  for (const name of UNUSED_POLICIES) client.pipeline.removePolicy({ name });
  return client;
}
