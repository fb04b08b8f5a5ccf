import { randomBytes } from "node:crypto";
import { createServer, request, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { inspect } from "node:util";
import { TableClient, TableServiceClient } from "@azure/data-tables";
import { afterAll, afterEach, describe, expect, inject, it } from "vitest";
import { azuriteConnectionString, DEFAULT_AZURITE_PORTS } from "../../dev/stack/local-settings.js";
import { freePort } from "../../dev/stack/processes.js";
import { Secret } from "../../src/config/secret.js";
import { type Admission, LeasedQuotaStore, type QuotaCounter, QuotaStoreError, RETENTION_MS, TableQuotaStore } from "../../src/quotas/index.js";

/**
 * The quota store against Azurite: each test has a table of its own. Two stores on one table stand
 * for two instances of the app. Some tests reach Azurite through a small proxy that counts requests,
 * reads the status of each operation in a transaction, and can answer 503 or not at all.
 */
const AZURITE = normalised(inject("storageConnectionString"));
const ACCOUNT_KEY = /AccountKey=([^;]+)/.exec(AZURITE)?.[1] ?? "";
const T0 = Date.parse("2026-11-26T11:55:10.000Z");
const W0 = "202611261155";

const tables: string[] = [];
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

afterAll(async () => {
  const service = TableServiceClient.fromConnectionString(AZURITE, { allowInsecureConnection: true });
  await Promise.all(tables.map((table) => service.deleteTable(table).catch(() => undefined)));
});

/** A fresh table, a clock the test moves, and a way to build stores (instances) on them. */
function setup(options: { connectionString?: string; timeoutMs?: number; maxAttempts?: number } = {}) {
  const tableName = `q${randomBytes(8).toString("hex")}`;
  tables.push(tableName);
  const clock = { now: T0 };
  const newStore = (connectionString = options.connectionString ?? AZURITE) =>
    new TableQuotaStore({
      storage: { kind: "connectionString", connectionString: new Secret(connectionString) },
      tableName,
      now: () => clock.now,
      timeoutMs: options.timeoutMs,
      maxAttempts: options.maxAttempts,
    });
  const rows = TableClient.fromConnectionString(AZURITE, tableName, { allowInsecureConnection: true });
  const row = async (window: string, rowKey: string) => {
    const entity = await rows.getEntity<{ requests: number; tokens: number; expiresAt: Date }>(window, rowKey);
    return { requests: entity.requests, tokens: entity.tokens, expiresAt: entity.expiresAt, etag: entity.etag };
  };
  return { tableName, clock, newStore, rows, row };
}

const counter = (key: string, requestsPerMinute: number, tokensPerMinute: number): QuotaCounter => ({ key, limits: { requestsPerMinute, tokensPerMinute } });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("TableQuotaStore against Azurite", () => {
  it("admits until the request limit, then refuses with Retry-After to the window's end, writing nothing", async () => {
    const { clock, newStore, row } = setup();
    const store = newStore();
    const dev = [counter("caller:key:dev", 3, 10_000)];

    const admitted: Admission[] = [];
    for (let i = 0; i < 3; i++) admitted.push(await store.admit(dev, 100));
    expect(admitted.map((a) => [a.admitted, a.window, a.remaining["caller:key:dev"]])).toEqual([
      [true, W0, { requests: 2, tokens: 9_900 }],
      [true, W0, { requests: 1, tokens: 9_800 }],
      [true, W0, { requests: 0, tokens: 9_700 }],
    ]);

    expect(await store.admit(dev, 100)).toEqual({
      admitted: false,
      window: W0,
      retryAfterSeconds: 50,
      limiting: "caller:key:dev",
      reason: "requests",
      remaining: { "caller:key:dev": { requests: 0, tokens: 9_700 } },
    });
    clock.now = Date.parse("2026-11-26T11:55:59.400Z");
    expect(await store.admit(dev, 100)).toMatchObject({ admitted: false, retryAfterSeconds: 1 });

    const stored = await row(W0, "caller:key:dev");
    expect(stored).toMatchObject({ requests: 3, tokens: 300 });
    expect(stored.expiresAt.getTime()).toBe(Date.parse("2026-11-26T11:56:00Z") + RETENTION_MS);

    // The next minute is a new window with its own row; the old one keeps its figures.
    clock.now = Date.parse("2026-11-26T11:56:00.000Z");
    expect(await store.admit(dev, 100)).toEqual({ admitted: true, window: "202611261156", remaining: { "caller:key:dev": { requests: 2, tokens: 9_900 } } });
    expect(await row("202611261156", "caller:key:dev")).toMatchObject({ requests: 1, tokens: 100 });
    expect(await row(W0, "caller:key:dev")).toMatchObject({ requests: 3, tokens: 300 });
  });

  it("refuses on tokens once charges have used the budget; a negative charge frees it", async () => {
    const { newStore, row } = setup();
    const store = newStore();
    const dev = [counter("caller:key:dev", 100, 1_000)];

    const first = await store.admit(dev, 100);
    await store.charge(["caller:key:dev"], first.window, 850);
    expect(await row(W0, "caller:key:dev")).toMatchObject({ requests: 1, tokens: 950 });

    expect(await store.admit(dev, 100)).toMatchObject({ admitted: false, reason: "tokens", remaining: { "caller:key:dev": { requests: 99, tokens: 50 } } });
    expect(await store.admit(dev, 50)).toMatchObject({ admitted: true, remaining: { "caller:key:dev": { requests: 98, tokens: 0 } } });
    expect(await store.admit(dev, 0)).toMatchObject({ admitted: false, reason: "tokens" });
    expect(await store.admit(dev, 1_001)).toMatchObject({ admitted: false, reason: "too_large", limiting: "caller:key:dev" });

    await store.charge(["caller:key:dev"], W0, -400);
    expect(await store.admit(dev, 300)).toMatchObject({ admitted: true, remaining: { "caller:key:dev": { requests: 97, tokens: 100 } } });
    expect(await row(W0, "caller:key:dev")).toMatchObject({ requests: 3, tokens: 900 });
  });

  it("sees budget freed by another instance's negative charge, though it remembers the counter as spent", async () => {
    const { newStore, row } = setup();
    const [a, b] = [newStore(), newStore()];
    const dev = [counter("caller:key:dev", 100, 1_000)];

    expect(await a.admit(dev, 1_000)).toMatchObject({ admitted: true });
    await b.charge(["caller:key:dev"], W0, -600);
    expect(await a.admit(dev, 500)).toMatchObject({ admitted: true, remaining: { "caller:key:dev": { tokens: 100 } } });
    expect(await row(W0, "caller:key:dev")).toMatchObject({ requests: 2, tokens: 900 });
  });

  it("books a charge in the window the request was admitted in, after that window has ended", async () => {
    const { clock, newStore, row } = setup();
    const store = newStore();
    const dev = [counter("caller:key:dev", 100, 1_000)];
    clock.now = Date.parse("2026-11-26T11:55:50Z");
    const early = await store.admit(dev, 100);
    clock.now = Date.parse("2026-11-26T11:56:10Z");
    const late = await store.admit(dev, 100);
    expect([early.window, late.window]).toEqual([W0, "202611261156"]);

    await store.charge(["caller:key:dev"], early.window, 50);
    expect(await row(W0, "caller:key:dev")).toMatchObject({ requests: 1, tokens: 150 });
    expect(await row("202611261156", "caller:key:dev")).toMatchObject({ requests: 1, tokens: 100 });
  });

  it("costs one round trip per admission in steady state, one read to confirm a refusal, and one transaction for a burst", async () => {
    const proxy = await startProxy(AZURITE);
    const { newStore } = setup({ connectionString: proxy.connectionString });
    const store = newStore();
    const pair = [counter("caller:key:dev", 40, 100_000), counter("deployment:mistral-small", 1_000, 200_000)];

    await store.admit(pair, 10);
    // The first call creates the table, reads both rows, writes both.
    expect(proxy.requests.map((r) => r.method)).toEqual(["POST", "GET", "GET", "POST"]);

    proxy.requests.length = 0;
    for (let i = 0; i < 5; i++) expect(await store.admit(pair, 10)).toMatchObject({ admitted: true });
    expect(proxy.requests.map((r) => `${r.method} ${r.path.endsWith("$batch")}`)).toEqual(Array(5).fill("POST true"));

    proxy.requests.length = 0;
    const burst = await Promise.all(Array.from({ length: 40 }, () => store.admit(pair, 10)));
    expect(burst.filter((a) => a.admitted)).toHaveLength(34);
    expect(burst.filter((a) => !a.admitted).every((a) => !a.admitted && a.reason === "requests" && a.limiting === "caller:key:dev")).toBe(true);
    // The refusals in the batch were decided on remembered rows: read once (another instance may have
    // given requests back), then one transaction.
    expect(proxy.requests.map((r) => `${r.method} ${r.path.endsWith("$batch")}`)).toEqual(["GET false", "GET false", "POST true"]);

    proxy.requests.length = 0;
    expect(await store.admit(pair, 10)).toMatchObject({ admitted: false, reason: "requests" });
    expect(proxy.requests.map((r) => r.method)).toEqual(["GET", "GET"]);
  });

  it("sends a charge along with the next admission, or on its own after the charge delay", async () => {
    const proxy = await startProxy(AZURITE);
    const { newStore, row } = setup({ connectionString: proxy.connectionString });
    const store = newStore();
    const pair = [counter("caller:key:dev", 40, 100_000), counter("deployment:mistral-small", 1_000, 200_000)];
    const first = await store.admit(pair, 100);
    if (!first.admitted) throw new Error("not admitted");
    proxy.requests.length = 0;

    // A call ends, the next begins: its charge and the next admission share one transaction.
    const charged = store.charge(["caller:key:dev", "deployment:mistral-small"], first.window, -60);
    await store.admit(pair, 100);
    await charged;
    expect(proxy.requests.map((r) => `${r.method} ${r.path.endsWith("$batch")}`)).toEqual(["POST true"]);
    expect(await row(first.window, "caller:key:dev")).toMatchObject({ requests: 2, tokens: 140 });

    // With no admission coming, the charge goes on its own once the delay passed.
    proxy.requests.length = 0;
    const started = Date.now();
    await store.charge(["caller:key:dev", "deployment:mistral-small"], first.window, -40);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(proxy.requests).toHaveLength(1);
    expect(await row(first.window, "caller:key:dev")).toMatchObject({ requests: 2, tokens: 100 });
  });

  it("admits exactly the limit across two instances firing 40 concurrent requests each", async () => {
    const proxy = await startProxy(AZURITE);
    const { newStore, row } = setup({ connectionString: proxy.connectionString });
    const [a, b] = [newStore(), newStore()];
    const deployment = counter("deployment:mistral-large", 25, 1_000_000);
    const countersOf = { a: [counter("caller:key:a", 1_000, 1_000_000), deployment], b: [counter("caller:key:b", 1_000, 1_000_000), deployment] };

    // Each instance has met the rows, and a's memory of the deployment row is already stale.
    await a.admit(countersOf.a, 1);
    await b.admit(countersOf.b, 1);
    const fire = (store: TableQuotaStore, counters: QuotaCounter[]) =>
      Promise.all(
        Array.from({ length: 40 }, async () => {
          await sleep(Math.random() * 30);
          return store.admit(counters, 1);
        }),
      );
    const [fromA, fromB] = await Promise.all([fire(a, countersOf.a), fire(b, countersOf.b)]);

    const admittedA = 1 + fromA.filter((x) => x.admitted).length;
    const admittedB = 1 + fromB.filter((x) => x.admitted).length;
    expect(admittedA + admittedB).toBe(25);
    for (const refused of [...fromA, ...fromB].filter((x) => !x.admitted)) {
      expect(refused).toMatchObject({ reason: "requests", limiting: "deployment:mistral-large", remaining: { "deployment:mistral-large": { requests: 0 } } });
    }
    expect(await row(W0, "deployment:mistral-large")).toMatchObject({ requests: 25, tokens: 25 });
    expect(await row(W0, "caller:key:a")).toMatchObject({ requests: admittedA, tokens: admittedA });
    expect(await row(W0, "caller:key:b")).toMatchObject({ requests: admittedB, tokens: admittedB });
    // The instances did collide: a's first transaction at least carried a stale ETag.
    expect(proxy.subStatuses).toContain(412);
  });

  it("keeps the sum exact when two instances charge one counter at once", async () => {
    const proxy = await startProxy(AZURITE);
    const { newStore, row } = setup({ connectionString: proxy.connectionString });
    const [a, b] = [newStore(), newStore()];
    const pair = [counter("caller:key:dev", 1_000, 1_000_000), counter("deployment:mistral-large", 1_000, 1_000_000)];
    const keys = pair.map((c) => c.key);
    await a.admit(pair, 1_000);
    await b.admit(pair, 1_000);

    const charges = (store: TableQuotaStore, deltas: number[]) =>
      Promise.all(
        deltas.map(async (delta) => {
          await sleep(Math.random() * 30);
          await store.charge(keys, W0, delta);
        }),
      );
    await Promise.all([charges(a, Array(30).fill(7)), charges(b, [...Array(20).fill(-3), ...Array(10).fill(13)])]);

    const expected = 2_000 + 30 * 7 - 20 * 3 + 10 * 13;
    expect(await row(W0, "caller:key:dev")).toMatchObject({ requests: 2, tokens: expected });
    expect(await row(W0, "deployment:mistral-large")).toMatchObject({ requests: 2, tokens: expected });
    expect(proxy.subStatuses).toContain(412);
  });

  it("changes the caller and deployment rows together or not at all", async () => {
    const proxy = await startProxy(AZURITE);
    const { newStore, rows, row } = setup({ connectionString: proxy.connectionString });
    const store = newStore();
    const pair = [counter("caller:key:dev", 100, 100_000), counter("deployment:mistral-large", 5, 100_000)];
    await store.admit(pair, 10);
    const callerBefore = await row(W0, "caller:key:dev");

    // Another instance takes the deployment's last requests: the store's ETag for it is now stale.
    await rows.updateEntity({ partitionKey: W0, rowKey: "deployment:mistral-large", requests: { value: 5, type: "Int32" } }, "Merge");
    proxy.requests.length = 0;

    expect(await store.admit(pair, 10)).toMatchObject({ admitted: false, reason: "requests", limiting: "deployment:mistral-large" });
    // It tried to write both rows in one transaction, the deployment's failed, and the caller's was not written.
    expect(proxy.requests.filter((r) => r.path.endsWith("$batch"))).toHaveLength(1);
    expect(proxy.subStatuses).toContain(412);
    expect(await row(W0, "caller:key:dev")).toEqual(callerBefore);

    // A refusal by the deployment writes nothing for the caller either.
    proxy.requests.length = 0;
    expect(await store.admit(pair, 10)).toMatchObject({ admitted: false, limiting: "deployment:mistral-large" });
    expect(proxy.requests.filter((r) => r.method !== "GET")).toHaveLength(0);
    expect(await row(W0, "caller:key:dev")).toEqual(callerBefore);
  });

  it("gives up with a conflict QuotaStoreError when the rows keep changing, and reads them again next time", async () => {
    const { newStore, row } = setup({ maxAttempts: 1 });
    const [a, b] = [newStore(), newStore()];
    const dev = [counter("caller:key:dev", 10, 1_000)];
    await a.admit(dev, 1);
    await b.admit(dev, 1);

    await expect(a.admit(dev, 1)).rejects.toMatchObject({
      name: "QuotaStoreError",
      code: "conflict",
      status: 412,
      message: "Quota counters kept changing under concurrent updates; gave up after 1 attempt.",
    });
    expect(await row(W0, "caller:key:dev")).toMatchObject({ requests: 2 });
    expect(await a.admit(dev, 1)).toMatchObject({ admitted: true, remaining: { "caller:key:dev": { requests: 7 } } });
  });

  it("gives each counter key its own row, however odd its characters", async () => {
    const { newStore, row } = setup();
    const store = newStore();
    const odd = "caller:key:o'brien/a#b?c\\d%e\u0001";
    const lookalike = "caller:key:o'brien%2Fa#b?c\\d%e\u0001";
    expect(await store.admit([counter(odd, 10, 1_000)], 5)).toMatchObject({ admitted: true, remaining: { [odd]: { requests: 9 } } });
    expect(await store.admit([counter(odd, 10, 1_000)], 5)).toMatchObject({ admitted: true, remaining: { [odd]: { requests: 8 } } });
    expect(await store.admit([counter(lookalike, 10, 1_000)], 5)).toMatchObject({ admitted: true, remaining: { [lookalike]: { requests: 9 } } });
    await store.charge([odd], W0, 20);
    expect(await row(W0, "caller:key:o'brien%2Fa%23b%3Fc%5Cd%25e%01")).toMatchObject({ requests: 2, tokens: 30 });
    expect(await row(W0, "caller:key:o'brien%252Fa%23b%3Fc%5Cd%25e%01")).toMatchObject({ requests: 1, tokens: 5 });
  });

  it("stops a caller's wait when it gives up, and leaves its request out of the batch", async () => {
    const { newStore, row } = setup();
    const store = newStore();
    const dev = [counter("caller:key:dev", 10, 1_000)];
    const controller = new AbortController();
    const abandoned = store.admit(dev, 5, controller.signal);
    const kept = store.admit(dev, 7);
    controller.abort(new Error("caller left"));
    await expect(abandoned).rejects.toThrow("caller left");
    expect(await kept).toMatchObject({ admitted: true });
    expect(await row(W0, "caller:key:dev")).toMatchObject({ requests: 1, tokens: 7 });
  });

  it("deletes windows whose retention is over and keeps the others", async () => {
    const { clock, newStore, rows } = setup();
    const store = newStore();
    const pair = [counter("caller:key:dev", 10, 1_000), counter("deployment:mistral-large", 10, 1_000)];
    await store.admit(pair, 1);
    clock.now = Date.parse("2026-11-26T12:00:30Z");
    await store.admit(pair, 1);

    clock.now = Date.parse("2026-11-26T12:05:59Z");
    expect(await store.purgeExpired()).toBe(0);
    clock.now = Date.parse("2026-11-26T12:06:00Z");
    expect(await store.purgeExpired()).toBe(2);

    const left: string[] = [];
    for await (const entity of rows.listEntities()) left.push(`${entity.partitionKey} ${entity.rowKey}`);
    expect(left.sort()).toEqual(["202611261200 caller:key:dev", "202611261200 deployment:mistral-large"]);
    expect(await store.admit(pair, 1)).toMatchObject({ admitted: true, window: "202611261206" });
  });

  it("fails with a QuotaStoreError that holds no key when storage cannot be reached", async () => {
    const port = await freePort();
    const dead = `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${ACCOUNT_KEY};TableEndpoint=http://127.0.0.1:${port}/devstoreaccount1`;
    const { newStore } = setup({ connectionString: dead });
    const store = newStore();

    const error = await store.admit([counter("caller:key:dev", 10, 1_000)], 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QuotaStoreError);
    expect(error).toMatchObject({ code: "unreachable", message: "Quota storage could not be reached.", status: undefined });
    const everything = [String(error), (error as Error).stack, JSON.stringify(error), inspect(error, { depth: 10, showHidden: true })].join("\n");
    expect(ACCOUNT_KEY.length).toBeGreaterThan(20);
    expect(everything).not.toContain(ACCOUNT_KEY.slice(0, 12));
    expect(everything).not.toMatch(/AccountKey|127\.0\.0\.1|devstoreaccount1/);

    await expect(store.charge(["caller:key:dev"], W0, 5)).rejects.toMatchObject({ name: "QuotaStoreError", code: "unreachable" });
  });

  it("fails with a throttled QuotaStoreError when storage is busy, and works again after", async () => {
    const proxy = await startProxy(AZURITE);
    const { newStore, row } = setup({ connectionString: proxy.connectionString });
    const store = newStore();
    const dev = [counter("caller:key:dev", 10, 1_000)];
    await store.admit(dev, 1);

    proxy.faults.push("busy");
    await expect(store.admit(dev, 1)).rejects.toMatchObject({ name: "QuotaStoreError", code: "throttled", status: 503, storageCode: "ServerBusy" });
    expect(await store.admit(dev, 1)).toMatchObject({ admitted: true, remaining: { "caller:key:dev": { requests: 8 } } });
    expect(await row(W0, "caller:key:dev")).toMatchObject({ requests: 2 });
  });

  it("fails with a timeout QuotaStoreError when storage does not answer, and works again after", async () => {
    const proxy = await startProxy(AZURITE);
    const { newStore, row } = setup({ connectionString: proxy.connectionString, timeoutMs: 300 });
    const store = newStore();
    const dev = [counter("caller:key:dev", 10, 1_000)];
    await store.admit(dev, 1);

    proxy.faults.push("silent");
    await expect(store.admit(dev, 1)).rejects.toMatchObject({
      name: "QuotaStoreError",
      code: "timeout",
      message: "Quota storage did not answer within 300 ms.",
    });
    expect(await store.admit(dev, 1)).toMatchObject({ admitted: true, remaining: { "caller:key:dev": { requests: 8 } } });
    expect(await row(W0, "caller:key:dev")).toMatchObject({ requests: 2 });
  });
});

/** `UseDevelopmentStorage=true` spelled out, so the table endpoint can be pointed elsewhere. */
function normalised(connectionString: string): string {
  return /^UseDevelopmentStorage=true;?$/i.test(connectionString) ? azuriteConnectionString(DEFAULT_AZURITE_PORTS) : connectionString;
}

interface SeenRequest {
  method: string;
  path: string;
  status: number;
}

/**
 * A proxy to Azurite's table endpoint that records every request and the status of every operation
 * inside a transaction's answer; a queued fault answers the next request instead: `busy` (503
 * ServerBusy) or `silent` (never answers).
 */
async function startProxy(connectionString: string) {
  const target = new URL(/TableEndpoint=([^;]+)/.exec(connectionString)?.[1] ?? "");
  const requests: SeenRequest[] = [];
  const subStatuses: number[] = [];
  const faults: ("busy" | "silent")[] = [];
  const silent: ServerResponse[] = [];
  const server = createServer((incoming, outgoing) => {
    const method = incoming.method ?? "GET";
    const path = (incoming.url ?? "/").split("?")[0] ?? "/";
    const fault = faults.shift();
    if (fault) {
      incoming.resume();
      if (fault === "silent") {
        silent.push(outgoing);
        return;
      }
      requests.push({ method, path, status: 503 });
      outgoing.writeHead(503, { "content-type": "application/json;odata=minimalmetadata" });
      outgoing.end(JSON.stringify({ "odata.error": { code: "ServerBusy", message: { lang: "en-US", value: "The server is busy." } } }));
      return;
    }
    const upstream = request(
      { host: target.hostname, port: target.port, method, path: incoming.url, headers: { ...incoming.headers, host: target.host } },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on("data", (chunk: Buffer) => chunks.push(chunk));
        answer.on("end", () => {
          const body = Buffer.concat(chunks);
          requests.push({ method, path, status: answer.statusCode ?? 0 });
          if (path.endsWith("$batch")) {
            for (const match of body.toString("utf8").matchAll(/HTTP\/1\.1 (\d{3})/g)) subStatuses.push(Number(match[1]));
          }
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          outgoing.end(body);
        });
      },
    );
    upstream.on("error", () => outgoing.destroy());
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const response of silent) response.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return {
    connectionString: connectionString.replace(/TableEndpoint=[^;]+/, `TableEndpoint=http://127.0.0.1:${port}${target.pathname}`),
    requests,
    subStatuses,
    faults,
  };
}

describe("LeasedQuotaStore on TableQuotaStore against Azurite", () => {
  it("decides most admissions in memory: 200 of them cost a handful of transactions, and the row ends with exactly those", async () => {
    const proxy = await startProxy(AZURITE);
    const { newStore, row, clock } = setup({ connectionString: proxy.connectionString });
    const store = new LeasedQuotaStore({ shared: newStore(), leaseFraction: 0.05, now: () => clock.now });
    const pair = [counter("caller:key:dev", 1_000, 1_000_000), counter("deployment:mistral-small", 2_000, 2_000_000)];
    for (let i = 0; i < 200; i++) {
      const admission = await store.admit(pair, 100);
      expect(admission).toMatchObject({ admitted: true, remaining: { "caller:key:dev": { requests: 1_000 - i - 1, tokens: 1_000_000 - 100 * (i + 1) } } });
    }
    const transactions = proxy.requests.filter((r) => r.path.endsWith("$batch"));
    // The first take, then a top-up every half lease (25 requests): about 9, never one per admission.
    expect(transactions.length).toBeGreaterThan(2);
    expect(transactions.length).toBeLessThan(20);
    await store.close();
    expect(await row(W0, "caller:key:dev")).toMatchObject({ requests: 200, tokens: 20_000 });
    expect(await row(W0, "deployment:mistral-small")).toMatchObject({ requests: 200, tokens: 20_000 });
  });

  it("admits at most the limit from three instances' bursts, at least the limit less two leases", async () => {
    const { newStore, row, clock } = setup();
    const stores = Array.from({ length: 3 }, () => new LeasedQuotaStore({ shared: newStore(), leaseFraction: 0.1, now: () => clock.now }));
    const dev = [counter("caller:key:dev", 50, 1_000_000)];
    const bursts = await Promise.all(stores.map((store) => Promise.all(Array.from({ length: 40 }, () => store.admit(dev, 10)))));
    const admitted = bursts.flat().filter((a) => a.admitted).length;
    expect(admitted).toBeLessThanOrEqual(50);
    expect(admitted).toBeGreaterThanOrEqual(50 - 2 * 5);
    await Promise.all(stores.map((store) => store.close()));
    expect(await row(W0, "caller:key:dev")).toMatchObject({ requests: admitted, tokens: admitted * 10 });
  });
});
