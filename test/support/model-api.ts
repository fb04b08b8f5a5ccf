/**
 * The model API this run's integration tests reach the model through. The integration suite runs once per
 * API (vitest.config.ts: the `integration` project with the Model Inference API, `integration-openai-v1`
 * with Foundry's OpenAI v1 API, which sets TEST_MODEL_API), with the same assertions: the emulator serves
 * both, and the app must answer the same whichever a deployment uses.
 */
export type ModelApi = "model-inference" | "openai-v1";

export const TEST_MODEL_API: ModelApi = process.env.TEST_MODEL_API === "openai-v1" ? "openai-v1" : "model-inference";

/** The settings with every deployment (MODEL_DEPLOYMENTS) reached at `emulatorUrl` through `api`. */
export function throughModelApi(settings: Record<string, string>, emulatorUrl: string, api: ModelApi = TEST_MODEL_API): Record<string, string> {
  const out = { ...settings };
  for (const alias of (settings.MODEL_DEPLOYMENTS ?? "")
    .split(",")
    .map((a) => a.trim())
    .filter(Boolean)) {
    const prefix = `MODEL_${alias.toUpperCase().replace(/-/g, "_")}_`;
    if (api === "openai-v1") {
      // Below /openai/v1 every deployment is one endpoint; `model` names the deployment itself.
      out[`${prefix}API`] = "openai-v1";
      out[`${prefix}ENDPOINT`] = `${emulatorUrl}/openai/v1`;
      out[`${prefix}MODEL`] = alias;
    } else {
      out[`${prefix}ENDPOINT`] = `${emulatorUrl}/${alias}`;
    }
  }
  return out;
}

/** A deployment's endpoint at `base` through `api`: below `/{alias}`, or the v1 API's one `/openai/v1`. */
export function endpointOf(base: string, alias: string, api: ModelApi = TEST_MODEL_API): string {
  return api === "openai-v1" ? `${base}/openai/v1` : `${base}/${alias}`;
}

/** The `model` the app sends upstream for an alias of the sample settings (and that `/info` names): the model's name, or the deployment's own with the v1 API. */
export function upstreamModel(alias: string, api: ModelApi = TEST_MODEL_API): string {
  if (api === "openai-v1") return alias;
  return alias === "mistral-large" ? "Mistral-Large" : "Mistral-Small";
}

/** Which deployment an emulator request was for: its path's first segment, or the v1 API's `model`. */
export function upstreamDeployment(entry: { path: string; body?: unknown }): string | undefined {
  if (entry.path.startsWith("/openai/v1/")) return (entry.body as { model?: string } | undefined)?.model;
  return entry.path.split("/")[1];
}
