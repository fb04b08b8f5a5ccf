import type { AppConfig } from "../config/index.js";
import { type ModelAuth, modelAuthFor } from "../credentials/model-auth.js";
import { isModelError, type ModelError } from "../lib/model-error.js";
import { telemetry } from "../telemetry/telemetry.js";
import { DeploymentPort } from "./deployment-port.js";
import { ModelPipeline } from "./model-pipeline.js";
import type { ModelPort } from "./model-port.js";
import { UndiciHttpClient } from "./undici-http-client.js";

/** Past Azure's 230 s front-end limit no answer can reach a caller; no connection waits longer. */
const OUTER_TIMEOUT_MS = 240_000;

/** The configured deployments by alias, in configured order; the first is the default. */
export class ModelRegistry {
  readonly #ports: ReadonlyMap<string, ModelPort>;
  readonly #fallbacks: ReadonlyMap<string, string>;

  /** `fallbacks` maps an alias to the alias that answers in its place when it is down. */
  constructor(ports: readonly ModelPort[], fallbacks: ReadonlyMap<string, string> = new Map()) {
    if (ports.length === 0) throw new Error("ModelRegistry needs at least one deployment");
    this.#ports = new Map(ports.map((port) => [port.alias, port]));
    this.#fallbacks = fallbacks;
  }

  /** `auths` holds each deployment's credential (by alias), so readiness can check the same ones. */
  static fromConfig(config: AppConfig, auths: ReadonlyMap<string, ModelAuth> = authsFor(config)): ModelRegistry {
    // One transport for every deployment: its pools are per origin, and idle sockets are shared.
    const httpClient = new UndiciHttpClient({
      outerTimeoutMs: OUTER_TIMEOUT_MS,
      connectionsPerOrigin: config.upstreamPool.connectionsPerEndpoint,
      idleMs: config.upstreamPool.idleMs,
    });
    const policy = { ...config.retries, budgetMs: config.modelTimeoutMs, breaker: config.breaker };
    const timeouts = { attemptMs: config.attemptTimeoutMs, idleMs: config.idleTimeoutMs };
    return new ModelRegistry(
      config.deployments.map(
        (deployment) =>
          new ModelPipeline(new DeploymentPort({ deployment, timeouts, httpClient, maxTokens: config.maxTokens, auth: auths.get(deployment.alias) }), policy),
      ),
      new Map(Object.entries(config.fallbacks)),
    );
  }

  /**
   * Calls `port`, and when it is down (an outage or throttling, before any byte reached the caller)
   * and the caller allows it, its fallback, once, in the configured order. Never for a caller's
   * mistake or a content filter. Returns which deployment answered.
   */
  async withFallback<T>(port: ModelPort, allowed: boolean, call: (port: ModelPort) => Promise<T>): Promise<{ result: T; port: ModelPort }> {
    try {
      return { result: await call(port), port };
    } catch (error) {
      const fallback = allowed ? this.#ports.get(this.#fallbacks.get(port.alias) ?? "") : undefined;
      if (!fallback || !isModelError(error) || !warrantsFallback(error)) throw error;
      telemetry().event("fallback", { "app.deployment.alias": port.alias, "app.fallback.to": fallback.alias, "error.type": error.code });
      return { result: await call(fallback), port: fallback };
    }
  }

  get default(): ModelPort {
    return this.all()[0] as ModelPort;
  }

  get aliases(): string[] {
    return [...this.#ports.keys()];
  }

  /** The deployment for `alias`, the default when no alias is given, undefined when unknown. */
  find(alias?: string): ModelPort | undefined {
    return alias === undefined ? this.default : this.#ports.get(alias);
  }

  all(): ModelPort[] {
    return [...this.#ports.values()];
  }
}

/** Each deployment's credential, by alias. */
export function authsFor(config: AppConfig): Map<string, ModelAuth> {
  return new Map(config.deployments.map((d) => [d.alias, modelAuthFor(d, config.identityClientId)]));
}

/** Down or throttled: worth asking another deployment. A caller's mistake or a filter is not. */
function warrantsFallback(error: ModelError): boolean {
  if (error.blame !== "deployment") return false;
  if (error.kind !== "upstream") return true;
  return error.status >= 500 || error.status === 429;
}
