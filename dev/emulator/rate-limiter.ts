export interface RateLimits {
  requestsPerMinute: number;
  tokensPerMinute: number;
}

export const AZURE_SERVERLESS_LIMITS: RateLimits = { requestsPerMinute: 1000, tokensPerMinute: 200_000 };

const WINDOW_MS = 60_000;

interface Spend {
  at: number;
  tokens: number;
}

/** One deployment's sliding one-minute window of requests and tokens, like the serverless quota. */
export class RateLimiter {
  #spends: Spend[] = [];

  constructor(
    public limits: RateLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Admits a request (counting it) or says how long to wait, in milliseconds. */
  admit(): { ok: true; spend: Spend } | { ok: false; retryAfterMs: number } {
    const now = this.now();
    this.#spends = this.#spends.filter((s) => s.at > now - WINDOW_MS);
    const tokens = this.#spends.reduce((sum, s) => sum + s.tokens, 0);
    if (this.#spends.length >= this.limits.requestsPerMinute || tokens >= this.limits.tokensPerMinute) {
      const oldest = this.#spends[0]?.at ?? now;
      return { ok: false, retryAfterMs: Math.max(1, oldest + WINDOW_MS - now) };
    }
    const spend = { at: now, tokens: 0 };
    this.#spends.push(spend);
    return { ok: true, spend };
  }

  reset(): void {
    this.#spends = [];
  }
}
