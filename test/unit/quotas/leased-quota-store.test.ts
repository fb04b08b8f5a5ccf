import { afterEach, describe, expect, it, vi } from "vitest";
import { LeasedQuotaStore, type QuotaCounter, type SharedCounters, type Take } from "../../../src/quotas/index.js";
import { type CounterState, planBatch } from "../../../src/quotas/plan-batch.js";
import { retryAfterSeconds } from "../../../src/quotas/window.js";

/**
 * The shared rows in memory, decided by the same planBatch the table store writes with (the table
 * itself is tested against Azurite): what reaches it, and what it holds, show what the leases do.
 */
class SharedRows implements SharedCounters {
  readonly rows = new Map<string, CounterState>();
  takes: { need: CounterState[]; spare: CounterState[] }[] = [];
  givenBack: { key: string; amount: CounterState }[] = [];
  charges: { keys: string[]; delta: number }[] = [];
  down = false;

  constructor(private readonly now: () => number) {}

  async take(window: string, counters: readonly QuotaCounter[], need: readonly CounterState[], spare: readonly CounterState[]): Promise<Take> {
    await Promise.resolve();
    if (this.down) throw new Error("storage is down");
    this.takes.push({ need: [...need], spare: [...spare] });
    const planned = counters.map((c) => ({ ...c, rowKey: `${window}/${c.key}` }));
    const plan = planBatch(this.rows, [{ kind: "take", counters: planned, need, spare }]);
    const outcome = plan.outcomes[0];
    for (const [rowKey, row] of plan.rows) this.rows.set(rowKey, row);
    if (outcome?.kind === "taken") return { taken: true, granted: outcome.granted, remaining: outcome.remaining };
    if (outcome?.kind !== "refused") throw new Error("unexpected outcome");
    return {
      taken: false,
      reason: outcome.reason,
      limiting: outcome.limiting,
      remaining: outcome.remaining,
      retryAfterSeconds: retryAfterSeconds(window, this.now()),
    };
  }

  async giveBack(key: string, window: string, amount: CounterState): Promise<void> {
    if (this.down) throw new Error("storage is down");
    this.givenBack.push({ key, amount });
    const row = this.row(window, key);
    this.rows.set(`${window}/${key}`, { requests: Math.max(0, row.requests - amount.requests), tokens: Math.max(0, row.tokens - amount.tokens) });
  }

  async charge(keys: readonly string[], window: string, delta: number): Promise<void> {
    this.charges.push({ keys: [...keys], delta });
    for (const key of keys) {
      const row = this.row(window, key);
      this.rows.set(`${window}/${key}`, { requests: row.requests, tokens: Math.max(0, row.tokens + delta) });
    }
  }

  row(window: string, key: string): CounterState {
    return this.rows.get(`${window}/${key}`) ?? { requests: 0, tokens: 0 };
  }
}

const WINDOW = "202611301200";
const START = Date.UTC(2026, 10, 30, 12, 0, 5);
const caller = (requestsPerMinute: number, tokensPerMinute: number): QuotaCounter => ({
  key: "caller:key:dev",
  limits: { requestsPerMinute, tokensPerMinute },
});
const deployment = (requestsPerMinute: number, tokensPerMinute: number): QuotaCounter => ({
  key: "deployment:m",
  limits: { requestsPerMinute, tokensPerMinute },
});

function setUp(leaseFraction = 0.05, idleMs = 2_000) {
  const clock = { now: START };
  const shared = new SharedRows(() => clock.now);
  const store = (rows = shared) => new LeasedQuotaStore({ shared: rows, leaseFraction, idleMs, now: () => clock.now });
  return { clock, shared, store: store(), another: store };
}

/** Lets background takes and give-backs finish. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

afterEach(() => vi.useRealTimers());

describe("LeasedQuotaStore", () => {
  it("takes a lease with the first admission, decides the next ones in memory, and tops the lease up in the background", async () => {
    const { shared, store } = setUp();
    const counters = [caller(1_000, 100_000), deployment(2_000, 400_000)];
    const first = await store.admit(counters, 100);
    expect(first).toEqual({
      admitted: true,
      window: WINDOW,
      remaining: { "caller:key:dev": { requests: 999, tokens: 99_900 }, "deployment:m": { requests: 1_999, tokens: 399_900 } },
    });
    // The admission's own need, and a twentieth of each budget spare.
    expect(shared.takes).toEqual([
      {
        need: [
          { requests: 1, tokens: 100 },
          { requests: 1, tokens: 100 },
        ],
        spare: [
          { requests: 50, tokens: 5_000 },
          { requests: 100, tokens: 20_000 },
        ],
      },
    ]);
    for (let i = 0; i < 30; i++) expect(await store.admit(counters, 100)).toMatchObject({ admitted: true });
    // 31 admitted from one lease of 51; the caller's fell below half after 26, and one top-up followed.
    await settle();
    expect(shared.takes).toHaveLength(2);
    expect(shared.takes[1]?.need).toEqual([
      { requests: 0, tokens: 0 },
      { requests: 0, tokens: 0 },
    ]);
    const last = await store.admit(counters, 100);
    expect(last).toMatchObject({ admitted: true, remaining: { "caller:key:dev": { requests: 1_000 - 32, tokens: 100_000 - 3_200 } } });
  });

  it("admits exactly the limit from one instance, its remaining counting down by one, and refuses the rest with the window's Retry-After", async () => {
    const { shared, store } = setUp();
    const seen: number[] = [];
    for (let i = 0; i < 12; i++) {
      const admission = await store.admit([caller(10, 1_000)], 10);
      seen.push(admission.admitted ? (admission.remaining["caller:key:dev"]?.requests ?? -1) : -1);
      await settle();
    }
    expect(seen).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0, -1, -1]);
    expect(await store.admit([caller(10, 1_000)], 10)).toEqual({
      admitted: false,
      window: WINDOW,
      retryAfterSeconds: 55,
      limiting: "caller:key:dev",
      reason: "requests",
      remaining: { "caller:key:dev": { requests: 0, tokens: 900 } },
    });
    // The row holds the lease's unused tokens too, until it is given back.
    expect(shared.row(WINDOW, "caller:key:dev").requests).toBe(10);
    await store.close();
    expect(shared.row(WINDOW, "caller:key:dev")).toEqual({ requests: 10, tokens: 100 });
  });

  it("stands by a refusal for a second, without asking the store, then asks again", async () => {
    const { clock, shared, store } = setUp();
    for (let i = 0; i < 3; i++) await store.admit([caller(3, 1_000)], 10);
    expect(await store.admit([caller(3, 1_000)], 10)).toMatchObject({ admitted: false, reason: "requests" });
    const takes = shared.takes.length;
    for (let i = 0; i < 50; i++)
      expect(await store.admit([caller(3, 1_000)], 10)).toMatchObject({ admitted: false, reason: "requests", limiting: "caller:key:dev" });
    expect(shared.takes).toHaveLength(takes);
    // Another instance gave a request back meanwhile: seen once the refusal's second is over.
    shared.rows.set(`${WINDOW}/caller:key:dev`, { requests: 2, tokens: 30 });
    clock.now += 1_000;
    expect(await store.admit([caller(3, 1_000)], 10)).toMatchObject({ admitted: true });
    expect(shared.takes).toHaveLength(takes + 1);
  });

  it("never counts one lease twice when a burst waits for the store at once: exactly the limit is admitted", async () => {
    const { shared, store } = setUp();
    const burst = await Promise.all(Array.from({ length: 40 }, () => store.admit([caller(25, 100_000)], 7)));
    expect(burst.filter((a) => a.admitted)).toHaveLength(25);
    await settle();
    expect(shared.row(WINDOW, "caller:key:dev").requests).toBe(25);
  });

  it("refuses a reservation larger than a minute's budget as too_large without asking the store", async () => {
    const { shared, store } = setUp();
    expect(await store.admit([caller(10, 1_000), deployment(10, 500)], 600)).toMatchObject({ admitted: false, reason: "too_large", limiting: "deployment:m" });
    expect(shared.takes).toEqual([]);
  });

  it("keeps a charge in the lease while it is held, and has usage beyond the lease paid by the next take", async () => {
    const { shared, store } = setUp(0.1);
    await store.admit([caller(100, 1_000)], 60);
    // The lease holds 100 spare tokens; the call used 60 less than reserved (none): no store call.
    await store.charge(["caller:key:dev"], WINDOW, -60);
    expect(shared.charges).toEqual([]);
    expect(await store.admit([caller(100, 1_000)], 100)).toMatchObject({ admitted: true, remaining: { "caller:key:dev": { tokens: 1_000 - 0 - 100 } } });
    // Now 500 tokens beyond: the lease (60 left) owes 440, and the next admission's take pays them first.
    await store.charge(["caller:key:dev"], WINDOW, 500);
    const takes = shared.takes.length;
    await store.admit([caller(100, 1_000)], 10);
    expect(shared.takes[takes]?.need).toEqual([{ requests: 0, tokens: 440 + 10 }]);
    await store.close();
    expect(shared.row(WINDOW, "caller:key:dev")).toEqual({ requests: 3, tokens: 60 - 60 + 100 + 500 + 10 });
  });

  it("sends a charge to the shared row once its window's lease is given back", async () => {
    const { clock, shared, store } = setUp();
    await store.admit([caller(100, 1_000)], 50);
    clock.now += 60_000;
    await store.admit([caller(100, 1_000)], 50);
    await settle();
    await store.charge(["caller:key:dev"], WINDOW, 25);
    expect(shared.charges).toEqual([{ keys: ["caller:key:dev"], delta: 25 }]);
    // The old window's row keeps only what was admitted in it, and the charge.
    expect(shared.row(WINDOW, "caller:key:dev")).toEqual({ requests: 1, tokens: 75 });
  });

  it("gives an unused lease back once idle, leaving the row with only what was admitted", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const { clock, shared, store } = setUp(0.2, 2_000);
    await store.admit([caller(100, 10_000)], 100);
    await store.admit([caller(100, 10_000)], 100);
    expect(shared.row(WINDOW, "caller:key:dev")).toEqual({ requests: 21, tokens: 2_100 });
    clock.now += 2_000;
    vi.advanceTimersByTime(1_000);
    await settle();
    expect(shared.givenBack).toEqual([{ key: "caller:key:dev", amount: { requests: 19, tokens: 1_900 } }]);
    expect(shared.row(WINDOW, "caller:key:dev")).toEqual({ requests: 2, tokens: 200 });
  });

  it("admits from its leases while storage is down, then fails with the store's error, and recovers", async () => {
    const { shared, store } = setUp(0.05);
    await store.admit([caller(100, 100_000)], 10);
    shared.down = true;
    const outcomes: string[] = [];
    for (let i = 0; i < 8; i++) {
      outcomes.push(
        await store.admit([caller(100, 100_000)], 10).then(
          (a) => (a.admitted ? "admitted" : "refused"),
          (e: Error) => e.message,
        ),
      );
    }
    // A lease of 5 spare requests: five more admissions, then the store's error.
    expect(outcomes).toEqual(["admitted", "admitted", "admitted", "admitted", "admitted", "storage is down", "storage is down", "storage is down"]);
    shared.down = false;
    expect(await store.admit([caller(100, 100_000)], 10)).toMatchObject({ admitted: true, remaining: { "caller:key:dev": { requests: 93 } } });
  });

  it("never holds more than one lease unused: a top-up fills the lease to its size, no further", async () => {
    const { shared, store } = setUp(0.1);
    const held: number[] = [];
    for (let admitted = 1; admitted <= 60; admitted++) {
      expect(await store.admit([caller(100, 1_000_000)], 1)).toMatchObject({ admitted: true });
      await settle();
      held.push(shared.row(WINDOW, "caller:key:dev").requests - admitted);
    }
    // A lease is 10 requests; the row never counts more than 10 this instance has not used.
    expect(Math.max(...held)).toBe(10);
    expect(shared.takes.length).toBeGreaterThan(6);
  });

  it("admits at most the limit across instances, refusing early by at most the others' leases", async () => {
    const { shared, another } = setUp(0.1);
    const instances = [another(), another(), another()];
    const counters = [caller(100, 1_000_000)];
    const admitted = await Promise.all(
      instances.map(async (store) => {
        let count = 0;
        for (let i = 0; i < 60; i++) if ((await store.admit(counters, 1)).admitted) count++;
        return count;
      }),
    );
    const total = admitted.reduce((a, b) => a + b, 0);
    const lease = 100 * 0.1;
    expect(total).toBeLessThanOrEqual(100);
    expect(total).toBeGreaterThanOrEqual(100 - (instances.length - 1) * lease);
    expect(shared.row(WINDOW, "caller:key:dev").requests).toBeLessThanOrEqual(100);
  });

  it("with no lease (0), takes exactly what each admission needs", async () => {
    const { shared, store } = setUp(0);
    await store.admit([caller(10, 1_000)], 5);
    await store.admit([caller(10, 1_000)], 5);
    expect(shared.takes.map((t) => t.spare)).toEqual([[{ requests: 0, tokens: 0 }], [{ requests: 0, tokens: 0 }]]);
    expect(shared.row(WINDOW, "caller:key:dev")).toEqual({ requests: 2, tokens: 10 });
    // Usage beyond the estimate is paid by the next admission's own take, not by a take of its own.
    await store.charge(["caller:key:dev"], WINDOW, 7);
    await settle();
    expect(shared.takes).toHaveLength(2);
    await store.admit([caller(10, 1_000)], 5);
    expect(shared.takes[2]?.need).toEqual([{ requests: 1, tokens: 12 }]);
  });
});
