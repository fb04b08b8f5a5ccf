import type { AppConfig } from "../config/index.js";
import { AzureModelPort } from "./azure-model-port.js";
import type { ModelPort } from "./model-port.js";
import { BreakerModelPort } from "./breaker-model-port.js";
import { RetryingModelPort } from "./retrying-model-port.js";
import { UndiciHttpClient } from "./undici-http-client.js";

/** Past Azure's 230 s front-end limit no answer can reach a caller; no connection waits longer. */
const OUTER_TIMEOUT_MS = 240_000;

/** The configured deployments by alias, in configured order; the first is the default. */
export class ModelRegistry {
  readonly #ports: ReadonlyMap<string, ModelPort>;

  constructor(ports: readonly ModelPort[]) {
    if (ports.length === 0) throw new Error("ModelRegistry needs at least one deployment");
    this.#ports = new Map(ports.map((port) => [port.alias, port]));
  }

  static fromConfig(config: AppConfig): ModelRegistry {
    // One transport for every deployment: its pools are per origin, and idle sockets are shared.
    const httpClient = new UndiciHttpClient({ outerTimeoutMs: OUTER_TIMEOUT_MS });
    const retries = { ...config.retries, budgetMs: config.modelTimeoutMs };
    return new ModelRegistry(
      config.deployments.map(
        (d) => new BreakerModelPort(new RetryingModelPort(new AzureModelPort(d, config.modelTimeoutMs, httpClient, config.maxTokens), retries), config.breaker),
      ),
    );
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
