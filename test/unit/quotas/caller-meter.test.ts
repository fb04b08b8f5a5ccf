import { describe, expect, it } from "vitest";
import type { QuotaConfig } from "../../../src/config/types.js";
import { HttpProblem } from "../../../src/lib/problem.js";
import { CallerMeter } from "../../../src/quotas/caller-meter.js";
import { type Admission, type QuotaCounter, type QuotaStore, QuotaStoreError } from "../../../src/quotas/index.js";

const quotas: QuotaConfig = {
  enabled: true,
  table: "quotas",
  caller: { requestsPerMinute: 100, tokensPerMinute: 10_000 },
  perKey: { ci: { requestsPerMinute: 5, tokensPerMinute: 500 } },
  deployments: { large: { requestsPerMinute: 1000, tokensPerMinute: 200_000 } },
  answerReserveTokens: 500,
  leasePercent: 5,
};
const body = { messages: [{ role: "user" as const, content: "12345678" }], max_tokens: 50 };

/** Records what the meter asks of the store and answers with `answer`. */
function store(answer: (counters: readonly QuotaCounter[]) => Admission | Error) {
  const calls = {
    admits: [] as { counters: readonly QuotaCounter[]; tokens: number }[],
    charges: [] as { keys: readonly string[]; window: string; delta: number }[],
  };
  const quotaStore: QuotaStore = {
    async admit(counters, tokens) {
      calls.admits.push({ counters, tokens });
      const result = answer(counters);
      if (result instanceof Error) throw result;
      return result;
    },
    async charge(keys, window, delta) {
      calls.charges.push({ keys, window, delta });
    },
  };
  return { quotaStore, calls };
}

const admitted = (remaining = { requests: 4, tokens: 300 }): Admission => ({
  admitted: true,
  window: "202611261200",
  remaining: { "caller:key:ci": remaining },
});

describe("CallerMeter", () => {
  it("admits against the caller's own limits and the deployment's, reserving the prompt estimate plus max_tokens", async () => {
    const { quotaStore, calls } = store(() => admitted());
    const meter = new CallerMeter(quotaStore, quotas, { id: "key:ci", keyName: "ci" }, 4096, () => {});
    await meter.admit("large", body);
    expect(calls.admits[0]).toEqual({
      counters: [
        { key: "caller:key:ci", limits: { requestsPerMinute: 5, tokensPerMinute: 500 } },
        { key: "deployment:large", limits: { requestsPerMinute: 1000, tokensPerMinute: 200_000 } },
      ],
      // 4 per message + every string in it ("user": 1, "12345678": 2) + max_tokens 50
      tokens: 57,
    });
    expect(meter.headers()).toEqual({
      "x-ratelimit-limit-requests": "5",
      "x-ratelimit-limit-tokens": "500",
      "x-ratelimit-remaining-requests": "4",
      "x-ratelimit-remaining-tokens": "300",
    });
  });

  it("settles with reported usage, or the prompt and streamed chunks when there is none", async () => {
    const { quotaStore, calls } = store(() => admitted());
    const meter = new CallerMeter(quotaStore, quotas, { id: "entra:x" }, 4096, () => {});
    (await meter.admit("large", body)).settle({ prompt_tokens: 10, completion_tokens: 20, total_tokens: 30 }, 0);
    (await meter.admit("large", body)).settle(undefined, 7);
    (await meter.admit("large", { ...body, max_tokens: 0 })).settle(undefined, 0);
    await Promise.resolve();
    expect(calls.charges).toEqual([
      { keys: ["caller:entra:x", "deployment:large"], window: "202611261200", delta: 30 - 57 },
      { keys: ["caller:entra:x", "deployment:large"], window: "202611261200", delta: 7 + 7 - 57 },
    ]);
    expect(calls.admits[0]?.counters[0]?.limits).toEqual(quotas.caller);
  });

  it("refuses with 429, Retry-After and the caller's figures; names a busy deployment; 400 for a request no budget fits", async () => {
    const refusal = (limiting: string, reason: "requests" | "tokens" | "too_large"): Admission => ({
      admitted: false,
      window: "202611261200",
      retryAfterSeconds: 17,
      limiting,
      reason,
      remaining: { "caller:key:ci": { requests: 0, tokens: 12 } },
    });
    const refusedBy = async (limiting: string, reason: "requests" | "tokens" | "too_large") => {
      const meter = new CallerMeter(store(() => refusal(limiting, reason)).quotaStore, quotas, { id: "key:ci", keyName: "ci" }, 4096, () => {});
      return meter.admit("large", body).then(
        () => undefined,
        (error: HttpProblem) => error,
      );
    };
    const own = await refusedBy("caller:key:ci", "requests");
    expect(own).toBeInstanceOf(HttpProblem);
    expect(own).toMatchObject({ status: 429, code: "quota_exceeded" });
    expect(own?.headers).toMatchObject({ "retry-after": "17", "x-ratelimit-remaining-requests": "0", "x-ratelimit-remaining-tokens": "12" });
    expect(await refusedBy("deployment:large", "tokens")).toMatchObject({ status: 429, code: "deployment_busy", detail: expect.stringContaining("large") });
    const tooLarge = await refusedBy("caller:key:ci", "too_large");
    expect(tooLarge).toMatchObject({ status: 400, code: "request_exceeds_quota" });
    expect(tooLarge?.headers["retry-after"]).toBeUndefined();
  });

  it("fails closed with a 503 when the counters cannot be reached", async () => {
    const { quotaStore } = store(() => new QuotaStoreError("unreachable", "Quota storage could not be reached."));
    const meter = new CallerMeter(quotaStore, quotas, { id: "key:ci", keyName: "ci" }, 4096, () => {});
    await expect(meter.admit("large", body)).rejects.toMatchObject({ status: 503, code: "quota_unavailable" });
  });

  it("logs a charge that failed instead of failing the answer", async () => {
    const lines: string[] = [];
    const meter = new CallerMeter(
      { admit: async () => admitted(), charge: async () => Promise.reject(new QuotaStoreError("timeout", "Quota storage did not answer in time.")) },
      quotas,
      { id: "key:ci", keyName: "ci" },
      4096,
      (line) => lines.push(line),
    );
    (await meter.admit("large", body)).settle({ prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 }, 0);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(lines).toEqual(["Quota charge of -55 tokens was lost: Quota storage did not answer in time."]);
  });
});
