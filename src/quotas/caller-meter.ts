import type { QuotaConfig, QuotaLimits } from "../config/types.js";
import { HttpProblem } from "../lib/problem.js";
import type { ChatCompletionsBody, WireUsage } from "../lib/wire.js";
import { type Admission, estimatePromptTokens, type QuotaCounter, type QuotaRemaining, type QuotaStore, QuotaStoreError } from "./index.js";
import type { MeterTicket, ModelMeter } from "./meter.js";

/** Who the quotas are counted for: the caller's id, and its key's name for per-key limits. */
export interface MeteredCaller {
  id: string;
  keyName?: string;
}

/** Tokens reserved for one model call on a deployment, in a minute's window: plain data, kept with a queued job. */
export interface Reservation {
  alias: string;
  window: string;
  /** The prompt's estimate, charged when a call reports no usage. */
  prompt: number;
  reserved: number;
}

/** Where failed charges are reported; never with a key or a storage URL. */
export type MeterLog = (message: string) => void;

/**
 * One request's quotas: each model call is admitted against the caller's budget and the chosen
 * deployment's, reserving the prompt's estimate plus the answer's max_tokens (as Azure's own limiter
 * counts), and settled with the model's reported usage when it is over. Over a limit: a 429 problem
 * with Retry-After and the caller's remaining budget.
 */
export class CallerMeter implements ModelMeter {
  readonly #store: QuotaStore;
  readonly #quotas: QuotaConfig;
  readonly #callerKey: string;
  readonly #callerLimits: QuotaLimits;
  /** Reserved for the answer of a call without max_tokens. */
  readonly #answerReserve: number;
  readonly #log: MeterLog;
  #remaining: QuotaRemaining | undefined;

  constructor(store: QuotaStore, quotas: QuotaConfig, caller: MeteredCaller, answerReserve: number, log: MeterLog) {
    this.#store = store;
    this.#quotas = quotas;
    this.#callerKey = `caller:${caller.id}`;
    this.#callerLimits = (caller.keyName !== undefined ? quotas.perKey[caller.keyName] : undefined) ?? quotas.caller;
    this.#answerReserve = answerReserve;
    this.#log = log;
  }

  async admit(alias: string, body: ChatCompletionsBody, signal?: AbortSignal): Promise<MeterTicket> {
    const counters = this.#counters(alias);
    return this.#ticket(counters, await this.#reserve(counters, alias, body, signal));
  }

  /**
   * Admission without the call: the tokens are reserved now (or a 429 thrown), and the reservation,
   * plain data, can be kept and turned into the call's ticket later by `ticketFor` (a queued job's
   * first model call uses the reservation made when it was submitted).
   */
  reserve(alias: string, body: ChatCompletionsBody, signal?: AbortSignal): Promise<Reservation> {
    return this.#reserve(this.#counters(alias), alias, body, signal);
  }

  async #reserve(counters: QuotaCounter[], alias: string, body: ChatCompletionsBody, signal?: AbortSignal): Promise<Reservation> {
    const prompt = estimatePromptTokens(body.messages, Array.isArray(body.tools) ? body.tools : undefined);
    const reserved = prompt + (typeof body.max_tokens === "number" ? body.max_tokens : this.#answerReserve);
    let admission: Admission;
    try {
      admission = await this.#store.admit(counters, reserved, signal);
    } catch (error) {
      throw error instanceof QuotaStoreError ? quotaUnavailable() : error;
    }
    this.#remaining = admission.remaining[this.#callerKey];
    if (!admission.admitted) throw this.#refusal(admission, alias, reserved);
    return { alias, window: admission.window, prompt, reserved };
  }

  /** The call's ticket for a reservation: settled, it charges the difference from what was reserved. */
  ticketFor(reservation: Reservation): MeterTicket {
    return this.#ticket(this.#counters(reservation.alias), reservation);
  }

  #ticket(counters: readonly QuotaCounter[], { window, prompt, reserved }: Reservation): MeterTicket {
    const keys = counters.map((c) => c.key);
    return {
      settle: (usage: WireUsage | undefined, streamedChunks: number) => {
        // Without reported usage (a failed call, a stream cut short): the prompt and what was sent.
        const used = usage?.total_tokens ?? prompt + streamedChunks;
        const delta = used - reserved;
        if (delta === 0) return;
        this.#store.charge(keys, window, delta).catch((error: unknown) => {
          this.#log(`Quota charge of ${delta} tokens was lost: ${error instanceof Error ? error.message : "unknown error"}`);
        });
      },
    };
  }

  #counters(alias: string): QuotaCounter[] {
    const deploymentLimits = this.#quotas.deployments[alias];
    const counters = [{ key: this.#callerKey, limits: this.#callerLimits }];
    if (deploymentLimits) counters.push({ key: `deployment:${alias}`, limits: deploymentLimits });
    return counters;
  }

  /** `x-ratelimit-*` for the caller's own budget after the last admission, as OpenAI's API sends them. */
  headers(): Record<string, string> {
    if (!this.#remaining) return {};
    return {
      "x-ratelimit-limit-requests": String(this.#callerLimits.requestsPerMinute),
      "x-ratelimit-limit-tokens": String(this.#callerLimits.tokensPerMinute),
      "x-ratelimit-remaining-requests": String(this.#remaining.requests),
      "x-ratelimit-remaining-tokens": String(this.#remaining.tokens),
    };
  }

  #refusal(admission: Extract<Admission, { admitted: false }>, alias: string, reserved: number): HttpProblem {
    const own = admission.limiting === this.#callerKey;
    if (admission.reason === "too_large") {
      const whose = own ? "your" : `${alias}'s`;
      return new HttpProblem({
        status: 400,
        code: "request_exceeds_quota",
        detail: `This request would use about ${reserved} tokens (prompt and max_tokens), more than ${whose} budget allows in a minute; shorten it or lower max_tokens.`,
        headers: this.headers(),
        extensions: { param: "max_tokens" },
      });
    }
    const what = admission.reason === "requests" ? "requests" : "tokens";
    const detail = own
      ? `Your ${what} per minute are used up; try again in ${admission.retryAfterSeconds} s.`
      : `${alias} is at its shared ${what} per minute; try again in ${admission.retryAfterSeconds} s.`;
    return new HttpProblem({
      status: 429,
      code: own ? "quota_exceeded" : "deployment_busy",
      title: "Too Many Requests",
      detail,
      headers: {
        "retry-after": String(admission.retryAfterSeconds),
        ...this.headers(),
      },
    });
  }
}

/** A caller's meter, when quotas are on: what a request (or a queued job's run) is counted with. */
export function callerMeterFor(
  store: QuotaStore | undefined,
  config: { quotas: QuotaConfig; maxTokens: number },
  caller: MeteredCaller,
  log: MeterLog,
): CallerMeter | undefined {
  if (!store) return undefined;
  return new CallerMeter(store, config.quotas, caller, Math.min(config.quotas.answerReserveTokens, config.maxTokens), log);
}

/** Fail closed: without the shared counters nobody's spending can be bounded. */
const quotaUnavailable = () =>
  new HttpProblem({
    status: 503,
    code: "quota_unavailable",
    title: "Service Unavailable",
    detail: "Quotas cannot be checked right now; try again shortly.",
    headers: { "retry-after": "5" },
  });
