/** A counter's budget for one window. Same shape as the configuration's quota limits. */
export interface QuotaLimits {
  /** Non-negative integer, at most 2^31 - 1 (stored as Int32). */
  readonly requestsPerMinute: number;
  /** Non-negative safe integer. */
  readonly tokensPerMinute: number;
}

/** One budget a request draws on, e.g. `caller:key:dev` or `deployment:mistral-large`. */
export interface QuotaCounter {
  readonly key: string;
  readonly limits: QuotaLimits;
}

/** What is left of a counter's budget in the window, never negative. */
export interface QuotaRemaining {
  readonly requests: number;
  readonly tokens: number;
}

/**
 * Why a request was refused: the counter's requests or tokens are used up, or (`too_large`) the
 * estimate alone exceeds the counter's tokens per minute, so no window will ever admit it and
 * retrying is pointless: answer it as a request that is too large, not with Retry-After.
 */
export type RefusalReason = "requests" | "tokens" | "too_large";

export interface Admitted {
  readonly admitted: true;
  /** The window charged; pass it to `charge` once the call's usage is known. */
  readonly window: string;
  /** Per counter key, after this admission. */
  readonly remaining: Readonly<Record<string, QuotaRemaining>>;
}

export interface Refused {
  readonly admitted: false;
  readonly window: string;
  /** Seconds until the window ends: at least 1, at most 60. */
  readonly retryAfterSeconds: number;
  /** The key of the first counter (in the order given) that refused. */
  readonly limiting: string;
  readonly reason: RefusalReason;
  /** Per counter key, as last read: nothing was written. */
  readonly remaining: Readonly<Record<string, QuotaRemaining>>;
}

export type Admission = Admitted | Refused;

/** The quota store the HTTP layer talks to; `TableQuotaStore` is the one shared through Table Storage. */
export interface QuotaStore {
  /**
   * Admits a request against every counter at once, or against none: one request and
   * `estimatedTokens` are added to all counters, or nothing is written. Storage failures reject
   * with `QuotaStoreError`; whether to fail open or closed is the caller's choice.
   */
  admit(counters: readonly QuotaCounter[], estimatedTokens: number, signal?: AbortSignal): Promise<Admission>;
  /**
   * Adds `tokensDelta` (actual usage minus the estimate reserved by `admit`; may be negative) to
   * each counter in `window`, the window `admit` returned. A counter never goes below zero tokens.
   */
  charge(counterKeys: readonly string[], window: string, tokensDelta: number, signal?: AbortSignal): Promise<void>;
  /** Gives back what this instance holds ahead of need, as it stops; resolves when the store has it. */
  close?(): Promise<void>;
}
