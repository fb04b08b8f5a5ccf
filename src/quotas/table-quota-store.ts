import type { StorageConfig } from "../config/types.js";
import { escapeRowKey } from "../storage/row-key.js";
import { type CounterState, type PlannedCounter, type PlanOutcome, planBatch, type QuotaOp } from "./plan-batch.js";
import { QuotaStoreError } from "./quota-store-error.js";
import { MAX_TRANSACTION_ROWS, QuotaTable, RETENTION_MS, type RowWrite, type StoredRow } from "./quota-table.js";
import type { Admission, QuotaCounter, QuotaLimits, QuotaRemaining, QuotaStore, Refused } from "./quota-types.js";
import { retryAfterSeconds, windowEndMs, windowOf, windowStartMs } from "./window.js";

export interface TableQuotaStoreOptions {
  /** The app's storage (AzureWebJobsStorage), by connection string or by managed identity. */
  readonly storage: StorageConfig;
  /** The app's identity, for storage by identity without a client id of its own. */
  readonly identityClientId?: string;
  /** 3 to 63 letters and digits, starting with a letter; default `quotas`. Created on first use. */
  readonly tableName?: string;
  /** The clock (epoch milliseconds) that picks the window; default `Date.now`. */
  readonly now?: () => number;
  /** The longest one storage call (a read or a transaction) may take; default 3 s. */
  readonly timeoutMs?: number;
  /** Transactions tried per batch before a `conflict` error; default 8. */
  readonly maxAttempts?: number;
  /**
   * How long a charge may wait to ride along with the next admission's transaction before it is
   * sent on its own; default 200 ms. Under load every charge shares a round trip it would otherwise
   * cost on its own; the wait only delays when the usage shows.
   */
  readonly chargeDelayMs?: number;
}

/** What a take answers: the amounts granted per counter, or why not. */
export type Take =
  | { readonly taken: true; readonly granted: readonly CounterState[]; readonly remaining: Readonly<Record<string, QuotaRemaining>> }
  | (Omit<Refused, "admitted" | "window"> & { readonly taken: false });

export const DEFAULT_QUOTA_TABLE = "quotas";
const TABLE_NAME = /^[A-Za-z][A-Za-z0-9]{2,62}$/;
const DEFAULT_TIMEOUT_MS = 3_000;
const DEFAULT_MAX_ATTEMPTS = 8;
const DEFAULT_CHARGE_DELAY_MS = 200;
const BACKOFF_BASE_MS = 10;
const BACKOFF_MAX_MS = 200;
const MAX_REQUESTS_PER_MINUTE = 2 ** 31 - 1;

interface Pending {
  readonly op: QuotaOp;
  readonly rowKeys: readonly string[];
  /** Answered, failed or abandoned by its caller: a batch skips it, a late outcome is dropped. */
  settled: boolean;
  resolve(outcome: PlanOutcome): void;
  reject(error: unknown): void;
}

/**
 * Per-caller and per-deployment quotas shared by every instance of the app through Table Storage
 * (the table's layout is in quota-table.ts).
 *
 * How a call runs:
 * - Calls for one window wait behind that window's transaction in flight and then go together in
 *   the next one (group commit). However many requests arrive at once, an instance has at most one
 *   transaction per window in flight, so it never conflicts with itself, and a burst costs one
 *   round trip, not one per request.
 * - Each instance remembers the figures and ETag it last read or wrote for each row. A batch is
 *   decided on those and written in one transaction, each row conditional on its ETag: in steady
 *   state, one round trip. When another instance wrote in between, the transaction fails as a
 *   whole (412), the rows are read again and the batch decided again, up to `maxAttempts` times with
 *   jittered backoff, then it fails with a `conflict` QuotaStoreError. A row met for the first time
 *   in a window is read first.
 * - A refusal writes nothing. A refusal decided on remembered figures is confirmed by reading the
 *   rows again: another instance's negative charge may have freed tokens, and a lease given back
 *   frees requests too.
 *
 * What is guaranteed, per counter and window W:
 * - Requests: at most `requestsPerMinute` are admitted in W across all instances. Every admission
 *   is written conditionally on the exact figures it was decided on, so two instances can never
 *   both take the last request.
 * - Tokens: let T be the counter's recorded tokens for W, the estimates reserved by admissions in W
 *   plus every charge to W. Each admission saw the exact current T and kept T + estimate ≤
 *   `tokensPerMinute`; after W's last admission only charges move T. So at any time
 *
 *       T ≤ tokensPerMinute + Σ max(0, actual_i − estimate_i)
 *
 *   summed over the requests admitted in W whose charge had not been written when W's last
 *   admission was (the requests in flight at that moment, that last one included). Requests
 *   charged before it cannot push T over: their usage was counted when it was decided. When every
 *   estimate covers the prompt and the answer's `max_tokens`, no term is positive and T stays
 *   within the limit; the prompt estimate is a heuristic, so each term is at most what it missed.
 * - Usage is booked in the window a request was admitted in, even when the answer ends in a later
 *   one. A charge that fails (storage down when the answer ends) is lost, and the counter shows
 *   less than was used by that much. A request whose caller gave up while its transaction was in
 *   flight may still be counted: the error is always towards refusing, never towards admitting.
 */
export class TableQuotaStore implements QuotaStore {
  readonly #table: QuotaTable;
  readonly #now: () => number;
  readonly #maxAttempts: number;
  /** window → rowKey → the row as this instance last read or wrote it. */
  readonly #rows = new Map<string, Map<string, StoredRow>>();
  /** window → calls waiting for its transaction. */
  readonly #queues = new Map<string, Pending[]>();
  /** Windows whose batches are running now. */
  readonly #draining = new Set<string>();
  /** Windows with a timer to send charges no admission took along. */
  readonly #chargeTimers = new Map<string, NodeJS.Timeout>();
  readonly #chargeDelayMs: number;

  constructor(options: TableQuotaStoreOptions) {
    const tableName = options.tableName ?? DEFAULT_QUOTA_TABLE;
    if (!TABLE_NAME.test(tableName)) throw new RangeError("A quota table name is 3 to 63 letters and digits, starting with a letter.");
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!(timeoutMs > 0)) throw new RangeError("timeoutMs must be positive.");
    const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new RangeError("maxAttempts must be a whole number, at least 1.");
    this.#table = new QuotaTable(options.storage, tableName, timeoutMs, options.identityClientId);
    this.#now = options.now ?? Date.now;
    this.#maxAttempts = maxAttempts;
    this.#chargeDelayMs = options.chargeDelayMs ?? DEFAULT_CHARGE_DELAY_MS;
  }

  get tableName(): string {
    return this.#table.tableName;
  }

  async admit(counters: readonly QuotaCounter[], estimatedTokens: number, signal?: AbortSignal): Promise<Admission> {
    const planned = plannedCounters(counters);
    if (!Number.isSafeInteger(estimatedTokens) || estimatedTokens < 0) throw new RangeError("estimatedTokens must be a whole number, at least 0.");
    const window = windowOf(this.#now());
    this.#forgetExpiredWindows();
    const rowKeys = planned.map((c) => c.rowKey);
    const outcome = await this.#enqueue(window, { kind: "admit", counters: planned, estimatedTokens }, rowKeys, signal);
    switch (outcome.kind) {
      case "admitted":
        return { admitted: true, window, remaining: outcome.remaining };
      case "refused": {
        const { reason, limiting, remaining } = outcome;
        return { admitted: false, window, retryAfterSeconds: retryAfterSeconds(window, this.#now()), limiting, reason, remaining };
      }
      default:
        throw new Error(`An admission was answered as ${outcome.kind}.`);
    }
  }

  /**
   * Takes a lease on `counters` in `window` (leased-quota-store.ts): each counter's `need` is added
   * to its row, or the take is refused and nothing is written; `spare` on top as far as each row's
   * budget allows. Refused, `retryAfterSeconds` is to the window's end.
   */
  async take(
    window: string,
    counters: readonly QuotaCounter[],
    need: readonly CounterState[],
    spare: readonly CounterState[],
    signal?: AbortSignal,
  ): Promise<Take> {
    windowStartMs(window);
    const planned = plannedCounters(counters);
    for (const amount of [...need, ...spare]) checkAmount(amount);
    if (need.length !== planned.length || spare.length !== planned.length) throw new RangeError("A take gives a need and a spare for each counter.");
    const outcome = await this.#enqueue(
      window,
      { kind: "take", counters: planned, need, spare },
      planned.map((c) => c.rowKey),
      signal,
    );
    switch (outcome.kind) {
      case "taken":
        return { taken: true, granted: outcome.granted, remaining: outcome.remaining };
      case "refused": {
        const { reason, limiting, remaining } = outcome;
        return { taken: false, retryAfterSeconds: retryAfterSeconds(window, this.#now()), limiting, reason, remaining };
      }
      default:
        throw new Error(`A take was answered as ${outcome.kind}.`);
    }
  }

  /**
   * Gives back what a lease did not use: `requests` and `tokens` are taken off the counter's row in
   * `window` (never below zero); a negative `tokens` adds usage beyond what was leased. Sent like a
   * charge, riding along with the next transaction or on its own after the charge delay.
   */
  async giveBack(counterKey: string, window: string, amount: CounterState, signal?: AbortSignal): Promise<void> {
    windowStartMs(window);
    if (!Number.isSafeInteger(amount.requests) || amount.requests < 0 || !Number.isSafeInteger(amount.tokens)) {
      throw new RangeError("A lease gives back a whole number of requests, at least 0, and of tokens.");
    }
    if (amount.requests === 0 && amount.tokens === 0) return;
    const rowKeys = uniqueRowKeys([counterKey]);
    await this.#enqueue(
      window,
      { kind: "charge", rowKeys, tokensDelta: -amount.tokens, requestsDelta: -amount.requests },
      rowKeys,
      signal,
      this.#chargeDelayMs,
    );
  }

  async charge(counterKeys: readonly string[], window: string, tokensDelta: number, signal?: AbortSignal): Promise<void> {
    windowStartMs(window);
    if (!Number.isSafeInteger(tokensDelta)) throw new RangeError("tokensDelta must be a whole number.");
    const rowKeys = uniqueRowKeys(counterKeys);
    if (tokensDelta === 0 || rowKeys.length === 0) return;
    await this.#enqueue(window, { kind: "charge", rowKeys, tokensDelta }, rowKeys, signal, this.#chargeDelayMs);
  }

  /**
   * Deletes the rows of windows that ended more than `RETENTION_MS` ago (no admission or charge
   * writes them any more) and answers how many. For a timer or an operator, never a request: it
   * pages through every expired row. Optional: rows left behind only take space.
   */
  purgeExpired(signal?: AbortSignal): Promise<number> {
    return this.#table.deleteWindowsBefore(this.#forgetExpiredWindows(), signal);
  }

  /** `deferMs`: the call may wait that long for a batch someone else starts, before starting one. */
  #enqueue(window: string, op: QuotaOp, rowKeys: readonly string[], signal: AbortSignal | undefined, deferMs = 0): Promise<PlanOutcome> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<PlanOutcome>((resolve, reject) => {
      const settle = (finish: () => void) => {
        if (pending.settled) return;
        pending.settled = true;
        signal?.removeEventListener("abort", onAbort);
        finish();
      };
      // The caller stops waiting; the batch it may already be part of goes on for the others.
      const onAbort = () => settle(() => reject(signal?.reason));
      const pending: Pending = {
        op,
        rowKeys,
        settled: false,
        resolve: (outcome) => settle(() => resolve(outcome)),
        reject: (error) => settle(() => reject(error)),
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      const queue = this.#queues.get(window);
      if (queue) queue.push(pending);
      else this.#queues.set(window, [pending]);
      if (deferMs > 0) this.#drainLater(window, deferMs);
      else this.#startDrain(window);
    });
  }

  #startDrain(window: string): void {
    const timer = this.#chargeTimers.get(window);
    if (timer) {
      clearTimeout(timer);
      this.#chargeTimers.delete(window);
    }
    if (this.#draining.has(window)) return;
    this.#draining.add(window);
    void this.#drain(window);
  }

  #drainLater(window: string, delayMs: number): void {
    if (this.#draining.has(window) || this.#chargeTimers.has(window)) return;
    // unref: a waiting charge never keeps the process alive on its own.
    this.#chargeTimers.set(window, setTimeout(() => this.#startDrain(window), delayMs).unref());
  }

  /** Runs the window's batches one after another until nobody waits. Never rejects. */
  async #drain(window: string): Promise<void> {
    // Calls made in the same tick as the first join its transaction.
    await Promise.resolve();
    const queue = this.#queues.get(window) ?? [];
    for (;;) {
      const batch = takeBatch(queue);
      if (batch.length === 0) {
        this.#queues.delete(window);
        this.#draining.delete(window);
        return;
      }
      try {
        const outcomes = await this.#commit(window, batch);
        batch.forEach((pending, i) => pending.resolve(outcomes[i] ?? { kind: "charged" }));
      } catch (error) {
        for (const pending of batch) pending.reject(error);
      }
    }
  }

  /** Decides a batch and writes it in one transaction, reading again and retrying on conflicts. */
  async #commit(window: string, batch: readonly Pending[]): Promise<PlanOutcome[]> {
    const ops = batch.map((pending) => pending.op);
    const rowKeys = [...new Set(batch.flatMap((pending) => pending.rowKeys))];
    const known = this.#windowRows(window);
    const fresh = new Set<string>();
    const load = async (keys: readonly string[]) => {
      if (keys.length === 0) return;
      for (const [rowKey, row] of await this.#table.read(window, keys)) {
        known.set(rowKey, row);
        fresh.add(rowKey);
      }
    };
    for (let attempt = 1; ; attempt++) {
      await load(rowKeys.filter((rowKey) => !known.has(rowKey)));
      let plan = planBatch(figures(known, rowKeys), ops);
      if (plan.outcomes.some((o) => o.kind === "refused" && o.reason !== "too_large" && !fresh.has(o.limitingRowKey))) {
        await load(rowKeys.filter((rowKey) => !fresh.has(rowKey)));
        plan = planBatch(figures(known, rowKeys), ops);
      }
      if (plan.changed.length === 0) return plan.outcomes;
      const writes = plan.changed.map((rowKey): RowWrite => {
        const row = plan.rows.get(rowKey) ?? { requests: 0, tokens: 0 };
        return { rowKey, requests: row.requests, tokens: row.tokens, etag: known.get(rowKey)?.etag };
      });
      try {
        const etags = await this.#table.write(window, writes, new Date(windowEndMs(window) + RETENTION_MS));
        for (const { rowKey, requests, tokens } of writes) {
          const etag = etags.get(rowKey);
          if (etag) known.set(rowKey, { requests, tokens, etag });
          else known.delete(rowKey);
        }
        return plan.outcomes;
      } catch (error) {
        // Whatever went wrong (a conflict, or a write that may or may not have landed), what this
        // instance remembers of these rows can no longer be trusted.
        for (const rowKey of rowKeys) known.delete(rowKey);
        fresh.clear();
        if (!(error instanceof QuotaStoreError) || error.code !== "conflict") throw error;
        if (attempt >= this.#maxAttempts) {
          throw new QuotaStoreError(
            "conflict",
            `Quota counters kept changing under concurrent updates; gave up after ${attempt} ${attempt === 1 ? "attempt" : "attempts"}.`,
            { status: error.status, storageCode: error.storageCode },
          );
        }
        await sleep(Math.random() * Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt));
      }
    }
  }

  #windowRows(window: string): Map<string, StoredRow> {
    let rows = this.#rows.get(window);
    if (!rows) {
      rows = new Map();
      this.#rows.set(window, rows);
    }
    return rows;
  }

  /** Drops remembered rows of the windows no call writes any more; answers the first window kept. */
  #forgetExpiredWindows(): string {
    const cutoff = windowOf(this.#now() - RETENTION_MS);
    for (const window of this.#rows.keys()) if (window < cutoff) this.#rows.delete(window);
    return cutoff;
  }
}

/** The next batch: waiting calls in order, as many as fit in one transaction's 100 rows. */
function takeBatch(queue: Pending[]): Pending[] {
  const batch: Pending[] = [];
  const rows = new Set<string>();
  while (queue.length > 0) {
    const next = queue[0] as Pending;
    if (!next.settled) {
      const added = next.rowKeys.filter((rowKey) => !rows.has(rowKey));
      if (batch.length > 0 && rows.size + added.length > MAX_TRANSACTION_ROWS) break;
      batch.push(next);
      for (const rowKey of added) rows.add(rowKey);
    }
    queue.shift();
  }
  return batch;
}

function figures(known: ReadonlyMap<string, StoredRow>, rowKeys: readonly string[]): Map<string, CounterState> {
  const rows = new Map<string, CounterState>();
  for (const rowKey of rowKeys) {
    const row = known.get(rowKey);
    if (row) rows.set(rowKey, { requests: row.requests, tokens: row.tokens });
  }
  return rows;
}

function plannedCounters(counters: readonly QuotaCounter[]): PlannedCounter[] {
  if (counters.length === 0 || counters.length > MAX_TRANSACTION_ROWS) {
    throw new RangeError(`An admission takes 1 to ${MAX_TRANSACTION_ROWS} counters.`);
  }
  const rowKeys = uniqueRowKeys(counters.map((c) => c.key));
  return counters.map(({ key, limits }, i) => {
    checkLimits(limits);
    return { key, rowKey: rowKeys[i] as string, limits };
  });
}

function checkAmount({ requests, tokens }: CounterState): void {
  if (!Number.isSafeInteger(requests) || requests < 0 || !Number.isSafeInteger(tokens) || tokens < 0) {
    throw new RangeError("A take's amounts are whole numbers, at least 0.");
  }
}

function uniqueRowKeys(keys: readonly string[]): string[] {
  const rowKeys = keys.map(escapeRowKey);
  if (new Set(rowKeys).size !== rowKeys.length) throw new RangeError("Each quota counter may appear only once per call.");
  if (rowKeys.length > MAX_TRANSACTION_ROWS) throw new RangeError(`A call takes at most ${MAX_TRANSACTION_ROWS} counters.`);
  return rowKeys;
}

function checkLimits({ requestsPerMinute, tokensPerMinute }: QuotaLimits): void {
  if (!Number.isInteger(requestsPerMinute) || requestsPerMinute < 0 || requestsPerMinute > MAX_REQUESTS_PER_MINUTE) {
    throw new RangeError(`requestsPerMinute must be a whole number from 0 to ${MAX_REQUESTS_PER_MINUTE}.`);
  }
  if (!Number.isSafeInteger(tokensPerMinute) || tokensPerMinute < 0) throw new RangeError("tokensPerMinute must be a whole number, at least 0.");
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
