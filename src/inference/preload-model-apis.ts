import type { DeploymentConfig } from "../config/types.js";

/** How long after the entry point runs the SDKs are loaded (see index.ts). */
export const PRELOAD_DELAY_MS = 100;

/** What else the first model call needs besides the deployments' APIs. */
export interface PreloadOptions {
  /** Quotas are on: the first admission takes a lease through the Table Storage client. */
  quotas: boolean;
}

/**
 * Loads the model SDKs and the transport the deployments use (and the Table Storage client, with
 * quotas on), once the entry point has run, instead of in the first model call. On a cold start the
 * request that woke the instance is usually a model call, and in Azure the worker loads the app while
 * the Functions host is still starting, so this time is spent while nothing waits for the worker. A
 * model call that comes first loads them itself, as before, and this then finds them loaded.
 */
export async function preloadModelApis(deployments: readonly DeploymentConfig[], options: PreloadOptions): Promise<void> {
  const apis = new Set(deployments.map((deployment) => deployment.api));
  if (apis.size === 0) return;
  // NOTE: require, not import(), as where they are used: the CommonJS builds.
  const loads = [() => require("undici"), () => require("@azure/core-rest-pipeline")];
  if (apis.has("model-inference"))
    loads.push(
      () => require("@azure-rest/ai-inference"),
      () => require("@azure/core-sse"),
    );
  if (apis.has("openai-v1")) loads.push(() => require("openai"));
  if (options.quotas) loads.push(() => require("@azure/data-tables"));
  for (const load of loads) {
    // One package a turn of the event loop: a request that comes meanwhile waits for one, not for all.
    await new Promise((resolve) => setImmediate(resolve));
    load();
  }
}
