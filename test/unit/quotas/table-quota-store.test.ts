import { describe, expect, it } from "vitest";
import { Secret } from "../../../src/config/secret.js";
import { TableQuotaStore } from "../../../src/quotas/table-quota-store.js";

/** Nothing listens on port 9 here; a call that reached storage would fail with QuotaStoreError instead. */
const store = () =>
  new TableQuotaStore({
    storage: {
      kind: "connectionString",
      connectionString: new Secret(
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=AAAA;TableEndpoint=http://127.0.0.1:9/devstoreaccount1",
      ),
    },
  });
const limits = { requestsPerMinute: 10, tokensPerMinute: 1000 };

describe("TableQuotaStore input checks, before any storage call", () => {
  it.each([
    ["no counters", [], 0],
    [
      "the same counter twice",
      [
        { key: "caller:key:a", limits },
        { key: "caller:key:a", limits },
      ],
      0,
    ],
    ["an empty key", [{ key: "", limits }], 0],
    ["a fractional request limit", [{ key: "k", limits: { requestsPerMinute: 1.5, tokensPerMinute: 10 } }], 0],
    ["a request limit beyond Int32", [{ key: "k", limits: { requestsPerMinute: 2 ** 31, tokensPerMinute: 10 } }], 0],
    ["a negative token limit", [{ key: "k", limits: { requestsPerMinute: 1, tokensPerMinute: -1 } }], 0],
    ["a negative estimate", [{ key: "k", limits }], -1],
    ["a fractional estimate", [{ key: "k", limits }], 0.5],
    ["101 counters", Array.from({ length: 101 }, (_, i) => ({ key: `k${i}`, limits })), 0],
  ] as const)("refuses an admission with %s", async (_, counters, estimate) => {
    await expect(store().admit(counters, estimate)).rejects.toThrow(RangeError);
  });

  it("refuses a charge to a malformed window, with a fractional delta, or twice to one counter", async () => {
    await expect(store().charge(["k"], "2026-11-26", 5)).rejects.toThrow(RangeError);
    await expect(store().charge(["k"], "202611261155", 0.5)).rejects.toThrow(RangeError);
    await expect(store().charge(["k", "k"], "202611261155", 5)).rejects.toThrow(RangeError);
  });

  it("does nothing for a zero charge or no counters", async () => {
    await expect(store().charge(["k"], "202611261155", 0)).resolves.toBeUndefined();
    await expect(store().charge([], "202611261155", 50)).resolves.toBeUndefined();
  });

  it("answers a caller that already gave up with its own reason", async () => {
    const reason = new Error("gone");
    await expect(store().admit([{ key: "k", limits }], 1, AbortSignal.abort(reason))).rejects.toBe(reason);
  });

  it("refuses a table name Table Storage would not take, and nonsense options", () => {
    const storage = { kind: "connectionString", connectionString: new Secret("UseDevelopmentStorage=true") } as const;
    expect(() => new TableQuotaStore({ storage, tableName: "my-quotas" })).toThrow(RangeError);
    expect(() => new TableQuotaStore({ storage, tableName: "1quotas" })).toThrow(RangeError);
    expect(() => new TableQuotaStore({ storage, maxAttempts: 0 })).toThrow(RangeError);
    expect(() => new TableQuotaStore({ storage, timeoutMs: 0 })).toThrow(RangeError);
    expect(new TableQuotaStore({ storage }).tableName).toBe("quotas");
  });
});
