import type { ModelInfo } from "../lib/wire.js";
import type { ModelPort } from "./model-port.js";

interface Entry {
  info: Promise<ModelInfo>;
  expires: number;
}

/**
 * Model info changes only when a deployment is replaced, so it is fetched once per TTL per deployment.
 * Concurrent callers share one upstream call; failures are not cached.
 */
export class ModelInfoCache {
  readonly #entries = new Map<string, Entry>();

  constructor(
    private readonly ttlMs: number,
    private readonly timeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(port: ModelPort, signal?: AbortSignal): Promise<ModelInfo> {
    const cached = this.#entries.get(port.alias);
    if (cached && cached.expires > this.now()) return cached.info;
    // The shared call is not tied to one caller's signal, or one caller leaving would fail the others;
    // it has its own deadline, far shorter than a chat call's, since /info is small.
    const info = port.info({ signal: AbortSignal.timeout(this.timeoutMs) });
    this.#entries.set(port.alias, { info, expires: this.now() + this.ttlMs });
    info.catch(() => {
      if (this.#entries.get(port.alias)?.info === info) this.#entries.delete(port.alias);
    });
    return signal ? raceAbort(info, signal) : info;
  }
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
