import type { CounterState } from "./plan-batch.js";
import type { Admission, QuotaCounter, QuotaLimits, QuotaRemaining, QuotaStore } from "./quota-types.js";
import type { Take } from "./table-quota-store.js";
import { retryAfterSeconds, WINDOW_MS, windowOf, windowStartMs } from "./window.js";

/** The shared counters leases come from: `TableQuotaStore`. */
export interface SharedCounters {
  take(window: string, counters: readonly QuotaCounter[], need: readonly CounterState[], spare: readonly CounterState[], signal?: AbortSignal): Promise<Take>;
  giveBack(counterKey: string, window: string, amount: CounterState): Promise<void>;
  charge(counterKeys: readonly string[], window: string, tokensDelta: number): Promise<void>;
}

export interface LeasedQuotaStoreOptions {
  readonly shared: SharedCounters;
  /**
   * A lease's size as a fraction of each counter's budget per minute (0 to 0.5): what one take
   * fetches beyond the admission that asked. 0 leases nothing ahead: every admission is a round trip.
   */
  readonly leaseFraction: number;
  /** A lease nobody used for this long is given back; default 2 s. */
  readonly idleMs?: number;
  /** The clock (epoch milliseconds) that picks the window; default `Date.now`. */
  readonly now?: () => number;
}

const DEFAULT_IDLE_MS = 2_000;
/**
 * How long a counter's refusal stands before the rows are asked again: a caller over its limit
 * must not cost a storage call per request it keeps sending.
 */
const REFUSAL_STANDS_MS = 1_000;

/** What this instance holds of one counter in one window. */
interface Lease {
  readonly key: string;
  readonly limits: QuotaLimits;
  /** What a full lease holds (from the limits and the lease fraction). */
  readonly size: CounterState;
  /** Never negative. */
  requests: number;
  /** Negative after usage beyond what was leased: the next take pays it first. */
  tokens: number;
  /** What the shared counter had left to lease after this instance's last take. */
  shared: QuotaRemaining;
  lastUsed: number;
  /** A take with a spare for this counter is on its way: no other asks for one. */
  fetching: boolean;
  /** The counter refused a take: until this time, an admission the lease cannot cover is refused as it was. */
  refusedUntil: number;
  refusal?: "requests" | "tokens";
}

/**
 * Quotas decided in memory, against leases on the shared counters (`TableQuotaStore`) taken ahead
 * of need, so that an admission almost never waits for storage.
 *
 * How it runs, per counter and window:
 * - An admission is decided in memory when this instance's leases on all its counters hold a
 *   request and its estimate: both are taken off the leases, nothing else happens on the request's
 *   path. A lease that falls below half its size is topped up to its size in the background (one take
 *   for the request's counters, one at a time per counter).
 * - Otherwise the admission takes what it lacks from the shared rows, with a lease's worth spare,
 *   in one round trip (which the store groups with other calls), and is refused if a counter
 *   cannot grant what it lacks: the shared row says no, not this instance. A refusal writes nothing.
 * - A call's charge (usage minus its estimate) moves the lease of its window while the lease is
 *   held; later, it goes to the shared row. Usage beyond the lease leaves it negative: the next
 *   take adds that to the row before anything more is admitted.
 * - Leases are given back (their requests and tokens taken off the rows, a negative lease added)
 *   when unused for `idleMs`, and when their window is over, in the background.
 * - A counter that refused stands by its refusal for a second: admissions its lease cannot cover
 *   are refused in memory meanwhile, so a caller over its limit costs no storage call per request.
 *
 * What is guaranteed, per counter and window W, with N instances and a lease of B requests:
 * - Requests: a row counts every request its instances admitted plus what they still hold, and a
 *   take never lets it pass the limit, so at most `requestsPerMinute` are admitted in W, whatever N.
 * - Tokens: as TableQuotaStore's bound, `tokens ≤ tokensPerMinute + Σ max(0, actual − estimate)`
 *   over the calls whose charge was not yet in the row when W's last take was written: a lease only
 *   ever spends what was taken, and its debts are paid before the next admission.
 * - Refusing early: budget held by other instances is not offered to this one, so a request may be
 *   refused while up to `(N − 1) × B` requests (and as many leases' tokens) sit unused elsewhere;
 *   an idle instance gives its lease back after `idleMs`. An instance that dies takes its lease's
 *   rest with it, for W only.
 * - Storage down: admissions go on from the leases held, at most a lease's worth, then fail with the
 *   store's error (the caller answers 503, failing closed). A lease lost in a give-back that fails
 *   only lowers what W admits.
 * - `remaining` is the shared counter's rest as this instance last saw it, plus its own lease:
 *   exact with one instance, an overstatement by what others took since with several.
 */
export class LeasedQuotaStore implements QuotaStore {
  readonly #shared: SharedCounters;
  readonly #fraction: number;
  readonly #idleMs: number;
  readonly #now: () => number;
  /** window → counter key → lease. */
  readonly #leases = new Map<string, Map<string, Lease>>();
  #sweeper: NodeJS.Timeout | undefined;
  /** The window of the last admission, and when it started (epoch milliseconds). */
  #window = "";
  #windowStart = Number.NEGATIVE_INFINITY;
  /** Top-ups on their way, which `close` waits for. */
  readonly #topUps = new Set<Promise<void>>();

  constructor(options: LeasedQuotaStoreOptions) {
    if (!(options.leaseFraction >= 0 && options.leaseFraction <= 0.5)) throw new RangeError("leaseFraction must be from 0 to 0.5.");
    const idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
    if (!(idleMs > 0)) throw new RangeError("idleMs must be positive.");
    this.#shared = options.shared;
    this.#fraction = options.leaseFraction;
    this.#idleMs = idleMs;
    this.#now = options.now ?? Date.now;
  }

  async admit(counters: readonly QuotaCounter[], estimatedTokens: number, signal?: AbortSignal): Promise<Admission> {
    if (!Number.isSafeInteger(estimatedTokens) || estimatedTokens < 0) throw new RangeError("estimatedTokens must be a whole number, at least 0.");
    if (counters.some((counter, i) => counters.findIndex((other) => other.key === counter.key) !== i)) {
      throw new RangeError("Each quota counter may appear only once per call.");
    }
    const now = this.#now();
    const window = this.#windowAt(now);
    const leases = counters.map((counter) => this.#lease(window, counter));
    const tooLarge = leases.find((lease) => estimatedTokens > lease.limits.tokensPerMinute);
    if (tooLarge) return this.#refused(window, leases, { reason: "too_large", limiting: tooLarge.key, retryAfterSeconds: retryAfterSeconds(window, now) });
    if (this.#admitFromLeases(leases, estimatedTokens, now)) {
      this.#topUp(window, counters, leases);
      return { admitted: true, window, remaining: remainingOf(leases) };
    }
    return this.#admitThroughStore(window, counters, leases, estimatedTokens, signal);
  }

  /** In memory, when every lease holds a request and the estimate (and a token, for a zero one, as the store asks). */
  #admitFromLeases(leases: readonly Lease[], estimatedTokens: number, now: number): boolean {
    if (!leases.every((lease) => lease.requests >= 1 && lease.tokens >= Math.max(1, estimatedTokens))) return false;
    for (const lease of leases) {
      lease.requests -= 1;
      lease.tokens -= estimatedTokens;
      lease.lastUsed = now;
    }
    return true;
  }

  async charge(counterKeys: readonly string[], window: string, tokensDelta: number): Promise<void> {
    if (!Number.isSafeInteger(tokensDelta)) throw new RangeError("tokensDelta must be a whole number.");
    if (tokensDelta === 0) return;
    const held = this.#leases.get(window);
    const unheld: string[] = [];
    for (const key of counterKeys) {
      const lease = held?.get(key);
      if (lease) lease.tokens -= tokensDelta;
      else unheld.push(key);
    }
    if (unheld.length > 0) await this.#shared.charge(unheld, window, tokensDelta);
  }

  /** Gives every lease back now (an instance stopping); resolves when the store has them. */
  async close(): Promise<void> {
    await Promise.all(this.#topUps);
    this.#stopSweeper();
    const windows = [...this.#leases.keys()];
    await Promise.all(windows.flatMap((window) => this.#giveBackAll(window)));
  }

  /**
   * The admission takes what its leases lack, so two admissions waiting at once never count the
   * same lease: what a lease has towards this one is set aside first (its pocket), and returned if
   * the take fails or is refused.
   */
  async #admitThroughStore(
    window: string,
    counters: readonly QuotaCounter[],
    leases: Lease[],
    estimatedTokens: number,
    signal?: AbortSignal,
  ): Promise<Admission> {
    const now = this.#now();
    const refusing = leases.find((lease) => lease.refusal && lease.refusedUntil > now);
    if (refusing?.refusal) {
      return this.#refused(window, leases, { reason: refusing.refusal, limiting: refusing.key, retryAfterSeconds: retryAfterSeconds(window, now) });
    }
    const pockets = leases.map((lease) => ({ requests: Math.min(1, lease.requests), tokens: clamp(lease.tokens, 0, estimatedTokens) }));
    leases.forEach((lease, i) => {
      const pocket = pockets[i] as CounterState;
      lease.requests -= pocket.requests;
      lease.tokens -= pocket.tokens;
      lease.lastUsed = now;
    });
    // From here a lease holds what is left beside the pockets: the need is the rest of the request and
    // any debt (a zero estimate still needs a token), the spare what fills the lease to its size.
    const need = leases.map((lease, i) => {
      const pocket = pockets[i] as CounterState;
      const debt = Math.max(0, -lease.tokens);
      return {
        requests: 1 - pocket.requests,
        tokens: Math.max(estimatedTokens - pocket.tokens + debt, lease.tokens <= 0 ? 1 - pocket.tokens : 0),
      };
    });
    const spare = leases.map((lease) => (lease.fetching ? NOTHING : toFill(lease)));
    const fetching = leases.filter((lease) => !lease.fetching);
    for (const lease of fetching) lease.fetching = true;
    let take: Take;
    try {
      take = await this.#shared.take(window, counters, need, spare, signal);
    } catch (error) {
      this.#credit(window, counters, pockets);
      throw error;
    } finally {
      for (const lease of fetching) lease.fetching = false;
    }
    if (!take.taken) {
      const current = this.#credit(window, counters, pockets);
      for (const lease of current) lease.shared = take.remaining[lease.key] ?? lease.shared;
      // A spare another admission's take brought meanwhile may hold what the row no longer has.
      if (take.reason !== "too_large" && this.#admitFromLeases(current, estimatedTokens, this.#now())) {
        return { admitted: true, window, remaining: remainingOf(current) };
      }
      const limiting = current.find((lease) => lease.key === take.limiting);
      if (limiting && take.reason !== "too_large") {
        limiting.refusal = take.reason;
        limiting.refusedUntil = this.#now() + REFUSAL_STANDS_MS;
      }
      return this.#refused(window, current, take);
    }
    const granted = take.granted.map((grant, i) => {
      const pocket = pockets[i] as CounterState;
      return { requests: pocket.requests + grant.requests - 1, tokens: pocket.tokens + grant.tokens - estimatedTokens };
    });
    const current = this.#credit(window, counters, granted);
    for (const lease of current) lease.shared = take.remaining[lease.key] ?? lease.shared;
    return { admitted: true, window, remaining: remainingOf(current) };
  }

  /** Tops up, in the background, the request's leases that fell below half a lease. */
  #topUp(window: string, counters: readonly QuotaCounter[], leases: readonly Lease[]): void {
    if (this.#fraction === 0 || !leases.some(isLow)) return;
    const low = leases.map(isLow);
    const spare = leases.map((lease, i) => (low[i] ? toFill(lease) : NOTHING));
    const fetching = leases.filter((_, i) => low[i]);
    for (const lease of fetching) lease.fetching = true;
    const topUp = this.#shared
      .take(
        window,
        counters,
        leases.map(() => NOTHING),
        spare,
      )
      .then((take) => {
        if (!take.taken) return;
        for (const lease of this.#credit(window, counters, take.granted)) lease.shared = take.remaining[lease.key] ?? lease.shared;
      })
      // The next admission that finds its lease short takes on its own, and meets the error then.
      .catch(() => undefined)
      .finally(() => {
        for (const lease of fetching) lease.fetching = false;
        this.#topUps.delete(topUp);
      });
    this.#topUps.add(topUp);
  }

  /** Adds `amounts` to the window's leases as they are now (one given back meanwhile is made again). */
  #credit(window: string, counters: readonly QuotaCounter[], amounts: readonly CounterState[]): Lease[] {
    return counters.map((counter, i) => {
      const lease = this.#lease(window, counter);
      const amount = amounts[i] ?? NOTHING;
      lease.requests += amount.requests;
      lease.tokens += amount.tokens;
      return lease;
    });
  }

  #size(limits: QuotaLimits): CounterState {
    if (this.#fraction === 0) return NOTHING;
    return { requests: Math.max(1, Math.floor(limits.requestsPerMinute * this.#fraction)), tokens: Math.floor(limits.tokensPerMinute * this.#fraction) };
  }

  #lease(window: string, counter: QuotaCounter): Lease {
    let held = this.#leases.get(window);
    if (!held) {
      held = new Map();
      this.#leases.set(window, held);
      this.#startSweeper();
    }
    let lease = held.get(counter.key);
    if (!lease) {
      const { requestsPerMinute: requests, tokensPerMinute: tokens } = counter.limits;
      lease = {
        key: counter.key,
        limits: counter.limits,
        size: this.#size(counter.limits),
        requests: 0,
        tokens: 0,
        shared: { requests, tokens },
        lastUsed: this.#now(),
        fetching: false,
        refusedUntil: 0,
      };
      held.set(counter.key, lease);
    }
    return lease;
  }

  #refused(window: string, leases: readonly Lease[], why: Pick<Extract<Take, { taken: false }>, "reason" | "limiting" | "retryAfterSeconds">): Admission {
    return { admitted: false, window, retryAfterSeconds: why.retryAfterSeconds, limiting: why.limiting, reason: why.reason, remaining: remainingOf(leases) };
  }

  /**
   * The window `now` falls in, worked out once a minute rather than per admission; when it changes,
   * the leases of the windows before it are given back.
   */
  #windowAt(now: number): string {
    if (now < this.#windowStart || now >= this.#windowStart + WINDOW_MS) {
      this.#window = windowOf(now);
      this.#windowStart = windowStartMs(this.#window);
      this.#giveBackEnded(this.#window);
    }
    return this.#window;
  }

  /** Leases of windows other than `current` are over: given back. */
  #giveBackEnded(current: string): void {
    for (const window of this.#leases.keys()) if (window !== current) void this.#giveBackAll(window);
  }

  #giveBackAll(window: string): Promise<void>[] {
    const held = this.#leases.get(window);
    this.#leases.delete(window);
    return [...(held?.values() ?? [])].map((lease) => this.#giveBack(window, lease));
  }

  /** A lease given back whose give-back fails is lost to its window: fewer admitted, never more. */
  #giveBack(window: string, lease: Lease): Promise<void> {
    return this.#shared.giveBack(lease.key, window, { requests: lease.requests, tokens: lease.tokens }).catch(() => undefined);
  }

  #sweep(): void {
    const now = this.#now();
    const current = this.#windowAt(now);
    const held = this.#leases.get(current);
    for (const lease of held?.values() ?? []) {
      if (!lease.fetching && now - lease.lastUsed >= this.#idleMs) {
        held?.delete(lease.key);
        void this.#giveBack(current, lease);
      }
    }
    if (held?.size === 0) this.#leases.delete(current);
    if (this.#leases.size === 0) this.#stopSweeper();
  }

  #startSweeper(): void {
    // unref: leases held never keep the process alive on their own.
    this.#sweeper ??= setInterval(() => this.#sweep(), Math.min(1_000, this.#idleMs)).unref();
  }

  #stopSweeper(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }
}

const NOTHING: CounterState = { requests: 0, tokens: 0 };

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

function remainingOf(leases: readonly Lease[]): Record<string, QuotaRemaining> {
  // A loop, not Object.fromEntries over mapped pairs: this runs on every admission.
  const remaining: Record<string, QuotaRemaining> = {};
  for (const lease of leases)
    remaining[lease.key] = { requests: lease.shared.requests + lease.requests, tokens: lease.shared.tokens + Math.max(0, lease.tokens) };
  return remaining;
}

/** Below half a lease, and no take for it on its way. */
function isLow(lease: Lease): boolean {
  return !lease.fetching && (lease.requests < lease.size.requests / 2 || lease.tokens < lease.size.tokens / 2);
}

/**
 * What brings a lease up to its size, and no further: an instance never holds more than one lease
 * unused, which is what the bound on refusing early counts on.
 */
function toFill(lease: Lease): CounterState {
  return { requests: Math.max(0, lease.size.requests - Math.max(0, lease.requests)), tokens: Math.max(0, lease.size.tokens - Math.max(0, lease.tokens)) };
}
