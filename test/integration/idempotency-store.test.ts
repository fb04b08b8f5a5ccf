import { describe, expect, inject, it } from "vitest";
import { Secret } from "../../src/config/secret.js";
import { TableIdempotencyStore } from "../../src/idempotency/idempotency-store.js";

/** The keys' table against Azurite: one claim per key, and what a dead request or an old key leaves. */
let now = 1_000_000;
const store = new TableIdempotencyStore({
  storage: { kind: "connectionString", connectionString: new Secret(inject("storageConnectionString")) },
  tableName: `idemstore${Date.now().toString(36)}`,
  retentionMs: 60_000,
  leaseMs: 5_000,
  now: () => now,
});
const answer = { status: 200, headers: { "x-model-deployment": "m" }, body: JSON.stringify({ id: "a" }) };

describe("TableIdempotencyStore", () => {
  it("lets exactly one of many concurrent requests claim a key", async () => {
    const claims = await Promise.all(Array.from({ length: 8 }, () => store.begin("key:a", "k1", "f")));
    expect(claims.filter((claim) => claim.kind === "claimed")).toHaveLength(1);
    expect(claims.filter((claim) => claim.kind === "running")).toHaveLength(7);
  });

  it("keeps an answer larger than one table property, and gives it back whole", async () => {
    const claim = await store.begin("key:a", "k2", "f");
    if (claim.kind !== "claimed") throw new Error(claim.kind);
    const big = { ...answer, body: JSON.stringify({ text: "é".repeat(100_000) }) };
    await store.finish("key:a", "k2", claim.etag, big);
    const replay = await store.begin("key:a", "k2", "f");
    if (replay.kind !== "done") throw new Error(replay.kind);
    expect(replay.answer.body.length).toBe(big.body.length);
    expect(replay.answer.body === big.body).toBe(true);
    expect(replay.answer.headers).toEqual(big.headers);
  });

  it("lets a retry take over a key whose request died (its lease ran out), and only one retry", async () => {
    const claim = await store.begin("key:a", "k3", "f");
    expect(claim.kind).toBe("claimed");
    now += 5_001;
    const retries = await Promise.all([store.begin("key:a", "k3", "f"), store.begin("key:a", "k3", "f")]);
    expect(retries.map((retry) => retry.kind).sort()).toEqual(["claimed", "running"]);
  });

  it("forgets a key after the retention window, and a released key can be claimed again", async () => {
    const claim = await store.begin("key:a", "k4", "f");
    if (claim.kind !== "claimed") throw new Error(claim.kind);
    await store.finish("key:a", "k4", claim.etag, answer);
    expect((await store.begin("key:a", "k4", "other")).kind).toBe("reused");
    now += 60_001;
    const later = await store.begin("key:a", "k4", "other");
    expect(later.kind).toBe("claimed");
    if (later.kind !== "claimed") return;
    await store.release("key:a", "k4", later.etag);
    expect((await store.begin("key:a", "k4", "f")).kind).toBe("claimed");
  });
});
