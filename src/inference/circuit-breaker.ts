export interface BreakerOptions {
  /** Failures within the window that open the circuit. */
  failures: number;
  windowMs: number;
  /** How long an open circuit refuses calls before one probe may go through. */
  coolDownMs: number;
  /**
   * How many different callers the failures in the window must come from (1 when absent). With 2 or
   * more, one caller alone, whose requests may be what the deployment chokes on, cannot open the
   * circuit for everyone else.
   */
  minCallers?: number;
}

/**
 * One deployment's circuit: closed (calls go through; failures are counted in a sliding window),
 * open (calls are refused at once until the cool-down ends), half-open (exactly one probe goes
 * through; its outcome closes or reopens the circuit). The circuit opens when `failures` failures
 * fall within the window and they came from at least `minCallers` callers.
 */
export class CircuitBreaker {
  #failures: Array<{ at: number; caller: string | undefined }> = [];
  #openUntil = 0;
  #probing = false;
  #state: "closed" | "open" | "half-open" = "closed";

  constructor(
    private readonly options: BreakerOptions,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): "closed" | "open" | "half-open" {
    return this.#state;
  }

  /** Whether a call may go through now; when half-open, only the first caller is let through. */
  allow(): boolean {
    if (this.#state === "closed") return true;
    if (this.#state === "open" && this.now() >= this.#openUntil) this.#state = "half-open";
    if (this.#state === "half-open" && !this.#probing) {
      this.#probing = true;
      return true;
    }
    return false;
  }

  /** How long until a call may go through again. */
  retryAfterMs(): number {
    return Math.max(1, this.#openUntil - this.now());
  }

  success(): void {
    this.#state = "closed";
    this.#probing = false;
    this.#failures = [];
  }

  /** A call that says nothing of the deployment's health (the caller left): a probe may go again. */
  neutral(): void {
    this.#probing = false;
  }

  /** `caller` is who made the failed call (undefined: an unknown caller, counted as one). */
  failure(caller?: string): void {
    const now = this.now();
    if (this.#state === "half-open") return this.#open(now);
    this.#failures = this.#failures.filter((failure) => failure.at > now - this.options.windowMs);
    this.#failures.push({ at: now, caller });
    if (this.#failures.length < this.options.failures) return;
    const callers = new Set(this.#failures.map((failure) => failure.caller)).size;
    if (callers >= (this.options.minCallers ?? 1)) this.#open(now);
  }

  #open(now: number): void {
    this.#state = "open";
    this.#probing = false;
    this.#openUntil = now + this.options.coolDownMs;
    this.#failures = [];
  }
}
