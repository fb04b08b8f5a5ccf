export interface RateLimits {
  requestsPerMinute: number;
  tokensPerMinute: number;
}

export const AZURE_SERVERLESS_LIMITS: RateLimits = { requestsPerMinute: 1000, tokensPerMinute: 200_000 };

const WINDOW_MS = 60_000;

export interface Spend {
  at: number;
  tokens: number;
}

/**
 * One deployment's sliding one-minute window of requests and tokens, like the serverless quota.
 * Spends leave from the front as they age, with running totals, so each request costs O(1) even at
 * thousands of requests per second (the bench).
 */
export class RateLimiter {
  #spends: Spend[] = [];
  #head = 0;
  #tokens = 0;

  constructor(
    public limits: RateLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Admits a request (counting it) or says how long to wait, in milliseconds. */
  admit(): { ok: true; spend: Spend } | { ok: false; retryAfterMs: number } {
    const now = this.now();
    this.#expire(now);
    const requests = this.#spends.length - this.#head;
    if (requests >= this.limits.requestsPerMinute || this.#tokens >= this.limits.tokensPerMinute) {
      const oldest = this.#spends[this.#head]?.at ?? now;
      return { ok: false, retryAfterMs: Math.max(1, oldest + WINDOW_MS - now) };
    }
    const spend = { at: now, tokens: 0 };
    this.#spends.push(spend);
    return { ok: true, spend };
  }

  /** Records the tokens an admitted request used, once they are known. */
  charge(spend: Spend, tokens: number): void {
    spend.tokens += tokens;
    this.#tokens += tokens;
  }

  reset(): void {
    this.#spends = [];
    this.#head = 0;
    this.#tokens = 0;
  }

  #expire(now: number): void {
    while (this.#head < this.#spends.length && (this.#spends[this.#head] as Spend).at <= now - WINDOW_MS) {
      this.#tokens -= (this.#spends[this.#head] as Spend).tokens;
      this.#head++;
    }
    // Compact now and then so the array does not grow without bound.
    if (this.#head > 1024 && this.#head * 2 > this.#spends.length) {
      this.#spends = this.#spends.slice(this.#head);
      this.#head = 0;
    }
  }
}
