import { safeText } from "../lib/safe-text.js";
import type { TableJobStore } from "./job-store.js";
import type { JobLease } from "./job-types.js";

/**
 * How often a running job is renewed: also how soon a cancel reaches the model call. JOB_LEASE_MS is at
 * least 10 s, so a lease outlives a renewal that takes a storage call's whole 5 s and the next one.
 */
const BEAT_MS = 2_000;

/**
 * Keeps a run's lease while it runs, renewing it every beat. The
 * same write finds out when the job was cancelled or taken over: `signal` is then aborted, which
 * aborts the run's model call and tools. `stop` ends the beats and says whether the lease is still
 * this run's (only then may the run write its outcome).
 */
export class LeaseKeeper {
  readonly #controller = new AbortController();
  readonly #timer: NodeJS.Timeout;
  #state: "held" | "cancelled" | "lost" = "held";
  #beat: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Pick<TableJobStore, "renew">,
    private readonly lease: JobLease,
    private readonly warn: (message: string) => void,
  ) {
    this.#timer = setInterval(() => {
      this.#beat = this.#beat.then(() => this.#renew());
    }, BEAT_MS);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  async stop(): Promise<"held" | "cancelled" | "lost"> {
    clearInterval(this.#timer);
    await this.#beat;
    return this.#state;
  }

  async #renew(): Promise<void> {
    if (this.#state !== "held") return;
    try {
      this.#state = await this.store.renew(this.lease);
    } catch (error) {
      // Storage unreachable: the lease holds until it runs out; the next beat tries again.
      this.warn(`its lease could not be renewed: ${safeText(error instanceof Error ? error.message : "unknown error")}`);
      return;
    }
    if (this.#state !== "held")
      this.#controller.abort(new DOMException(`The job was ${this.#state === "cancelled" ? "cancelled" : "taken over"}.`, "AbortError"));
  }
}
