import { describe, expect, it } from "vitest";
import { type AdmitOp, type ChargeOp, type CounterState, planBatch } from "../../../src/quotas/plan-batch.js";

const caller = (requestsPerMinute: number, tokensPerMinute: number) => ({
  key: "caller:key:dev",
  rowKey: "caller:key:dev",
  limits: { requestsPerMinute, tokensPerMinute },
});
const deployment = (requestsPerMinute: number, tokensPerMinute: number) => ({
  key: "deployment:m",
  rowKey: "deployment:m",
  limits: { requestsPerMinute, tokensPerMinute },
});
const admit = (estimatedTokens: number, ...counters: AdmitOp["counters"]): AdmitOp => ({ kind: "admit", counters, estimatedTokens });
const charge = (tokensDelta: number, ...rowKeys: string[]): ChargeOp => ({ kind: "charge", rowKeys, tokensDelta });
const rows = (entries: Record<string, CounterState>) => new Map(Object.entries(entries));

describe("planBatch", () => {
  it("admits in order until the request limit, then refuses without counting", () => {
    const plan = planBatch(rows({}), [admit(10, caller(2, 1000)), admit(10, caller(2, 1000)), admit(10, caller(2, 1000))]);
    expect(plan.outcomes.map((o) => o.kind)).toEqual(["admitted", "admitted", "refused"]);
    expect(plan.outcomes[2]).toMatchObject({ reason: "requests", limiting: "caller:key:dev", remaining: { "caller:key:dev": { requests: 0, tokens: 980 } } });
    expect(plan.rows.get("caller:key:dev")).toEqual({ requests: 2, tokens: 20 });
    expect(plan.changed).toEqual(["caller:key:dev"]);
  });

  it("reports what remains after each admission", () => {
    const plan = planBatch(rows({ "caller:key:dev": { requests: 3, tokens: 400 } }), [admit(100, caller(10, 1000)), admit(250, caller(10, 1000))]);
    expect(plan.outcomes).toEqual([
      { kind: "admitted", remaining: { "caller:key:dev": { requests: 6, tokens: 500 } } },
      { kind: "admitted", remaining: { "caller:key:dev": { requests: 5, tokens: 250 } } },
    ]);
  });

  it("refuses an estimate that does not fit, but admits a later one that does", () => {
    const plan = planBatch(rows({ "caller:key:dev": { requests: 0, tokens: 900 } }), [admit(101, caller(10, 1000)), admit(100, caller(10, 1000))]);
    expect(plan.outcomes[0]).toMatchObject({ kind: "refused", reason: "tokens" });
    expect(plan.outcomes[1]).toMatchObject({ kind: "admitted", remaining: { "caller:key:dev": { requests: 9, tokens: 0 } } });
  });

  it("refuses even a zero estimate once the tokens are spent", () => {
    const plan = planBatch(rows({ "caller:key:dev": { requests: 1, tokens: 1000 } }), [admit(0, caller(10, 1000))]);
    expect(plan.outcomes[0]).toMatchObject({ kind: "refused", reason: "tokens" });
    expect(plan.changed).toEqual([]);
  });

  it("calls an estimate above the limit too large, before any other reason, even on an empty counter", () => {
    const full = rows({ "caller:key:dev": { requests: 5, tokens: 0 } });
    const plan = planBatch(full, [admit(1001, caller(5, 1000), deployment(10, 5000))]);
    expect(plan.outcomes[0]).toMatchObject({ kind: "refused", reason: "too_large", limiting: "caller:key:dev" });
    expect(planBatch(rows({}), [admit(2000, caller(5, 5000), deployment(10, 1000))]).outcomes[0]).toMatchObject({
      reason: "too_large",
      limiting: "deployment:m",
    });
  });

  it("admits against all counters or none: a refusal by one leaves the others as they were", () => {
    const plan = planBatch(rows({ "deployment:m": { requests: 10, tokens: 0 } }), [admit(5, caller(10, 1000), deployment(10, 1000))]);
    expect(plan.outcomes[0]).toMatchObject({ kind: "refused", reason: "requests", limiting: "deployment:m", limitingRowKey: "deployment:m" });
    expect(plan.changed).toEqual([]);
    expect(plan.rows.has("caller:key:dev")).toBe(false);
  });

  it("names the first counter, in the order given, that refuses", () => {
    const spent = rows({ "caller:key:dev": { requests: 1, tokens: 0 }, "deployment:m": { requests: 1, tokens: 0 } });
    expect(planBatch(spent, [admit(0, deployment(1, 10), caller(1, 10))]).outcomes[0]).toMatchObject({ limiting: "deployment:m" });
    expect(planBatch(spent, [admit(0, caller(1, 10), deployment(1, 10))]).outcomes[0]).toMatchObject({ limiting: "caller:key:dev" });
  });

  it("never reports a negative remainder, even when usage overshot", () => {
    const plan = planBatch(rows({ "caller:key:dev": { requests: 1, tokens: 1500 } }), [admit(0, caller(10, 1000))]);
    expect(plan.outcomes[0]).toMatchObject({ remaining: { "caller:key:dev": { requests: 9, tokens: 0 } } });
  });

  it("applies charges by their delta, never below zero, and creates no row for nothing", () => {
    const plan = planBatch(rows({ a: { requests: 2, tokens: 100 }, b: { requests: 1, tokens: 30 } }), [
      charge(-50, "a", "b"),
      charge(20, "c"),
      charge(-5, "d"),
    ]);
    expect(plan.outcomes).toEqual([{ kind: "charged" }, { kind: "charged" }, { kind: "charged" }]);
    expect(plan.rows.get("a")).toEqual({ requests: 2, tokens: 50 });
    expect(plan.rows.get("b")).toEqual({ requests: 1, tokens: 0 });
    expect(plan.rows.get("c")).toEqual({ requests: 0, tokens: 20 });
    expect([...plan.changed].sort()).toEqual(["a", "b", "c"]);
  });

  it("lets a negative charge free budget for an admission after it in the same batch", () => {
    const start = rows({ "caller:key:dev": { requests: 1, tokens: 1000 } });
    const plan = planBatch(start, [admit(300, caller(10, 1000)), charge(-400, "caller:key:dev"), admit(300, caller(10, 1000))]);
    expect(plan.outcomes.map((o) => o.kind)).toEqual(["refused", "charged", "admitted"]);
    expect(plan.rows.get("caller:key:dev")).toEqual({ requests: 2, tokens: 900 });
  });

  it("writes nothing when the batch nets out", () => {
    const plan = planBatch(rows({ a: { requests: 1, tokens: 10 } }), [charge(5, "a"), charge(-5, "a")]);
    expect(plan.changed).toEqual([]);
  });

  it("does not change the rows it was given", () => {
    const start = rows({ "caller:key:dev": { requests: 0, tokens: 0 } });
    planBatch(start, [admit(10, caller(5, 100))]);
    expect(start.get("caller:key:dev")).toEqual({ requests: 0, tokens: 0 });
  });
});
