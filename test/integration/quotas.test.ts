import { randomBytes } from "node:crypto";
import { TableClient } from "@azure/data-tables";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { estimatePromptTokens } from "../../src/quotas/index.js";
import { postJson, startEmulator } from "../support/emulator.js";
import { settingsFor, startHost } from "../support/host.js";

/**
 * Quotas enforced by several app instances (host processes) that share their counters through
 * Azurite, each deciding admissions against leases it holds: what they admit together stays within
 * the limits and within the documented bound of refusing early, refusals are 429s with the headers
 * clients read, and usage is charged from what the model reported, streams included.
 */
type Host = Awaited<ReturnType<typeof startHost>>;

const question = (content: string, extra: Record<string, unknown> = {}) => ({ messages: [{ role: "user", content }], max_tokens: 60, ...extra });

interface Hosts {
  emulator: Awaited<ReturnType<typeof startEmulator>>;
  hosts: Host[];
  table: string;
}

/** Host processes (app instances) of the describe block's own, sharing a fresh quota table. */
function useHosts(count: number, overrides: Record<string, string>): Hosts {
  const app = {} as Hosts;
  beforeAll(async () => {
    app.emulator = await startEmulator();
    app.table = `quotas${randomBytes(6).toString("hex")}`;
    const settings = settingsFor(inject("stackSettings"), app.emulator.url, { QUOTA_TABLE: app.table, ...overrides });
    app.hosts = await Promise.all(Array.from({ length: count }, () => startHost(settings)));
  });
  afterAll(async () => {
    await Promise.all([...(app.hosts ?? []).map((h) => h.stop()), app.emulator?.close()]);
  });
  return app;
}

/** Every counter row of the table, summed per counter over whatever windows the test touched. */
async function counters(table: string): Promise<Record<string, { requests: number; tokens: number }>> {
  const client = TableClient.fromConnectionString(inject("storageConnectionString"), table, { allowInsecureConnection: true });
  const sums: Record<string, { requests: number; tokens: number }> = {};
  for await (const row of client.listEntities<{ requests: number; tokens: number }>()) {
    sums[row.rowKey as string] ??= { requests: 0, tokens: 0 };
    const sum = sums[row.rowKey as string] as { requests: number; tokens: number };
    sum.requests += row.requests;
    sum.tokens += row.tokens;
  }
  return sums;
}

/** Counts are per minute: start a burst early enough in the minute that it ends in the same one. */
async function awayFromMinuteEnd(): Promise<void> {
  const second = new Date().getUTCSeconds();
  if (second >= 50) await new Promise((resolve) => setTimeout(resolve, (61 - second) * 1000));
}

/** Until `done`, or 10 s: rows hold the instances' leases until they give them back, 2 s after last use. */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let i = 0; ; i++) {
    const value = await read();
    if (done(value) || i >= 100) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const chat = (host: Host, body: unknown) => postJson(`${host.url}/api/chat/completions`, body, { "api-key": "dev-key" });

describe("requests per minute across three instances", () => {
  const LIMIT = 100;
  // A lease is 5% of the budget: 5 requests. Three instances may leave at most two leases unused.
  const LEASE = 5;
  const app = useHosts(3, { CALLER_QUOTAS: `dev:${LIMIT}/100000000`, QUOTA_LEASE_PERCENT: "5" });

  it("admits at most the limit from bursts at all of them at once, at least the limit less the others' leases, and books exactly those", async () => {
    await awayFromMinuteEnd();
    const answers = await Promise.all(Array.from({ length: 240 }, (_, i) => chat(app.hosts[i % 3] as Host, question(`Hello number ${i}`))));
    const admitted = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status === 429);
    expect(admitted.length).toBeLessThanOrEqual(LIMIT);
    expect(admitted.length).toBeGreaterThanOrEqual(LIMIT - (3 - 1) * LEASE);
    expect(refused).toHaveLength(240 - admitted.length);
    expect(app.emulator.emulator.log.entries()).toHaveLength(admitted.length);
    const sample = refused[0];
    expect(sample?.json).toMatchObject({ error: { code: "quota_exceeded" } });
    expect(Number(sample?.response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(Number(sample?.response.headers.get("retry-after"))).toBeLessThanOrEqual(60);
    expect(Number(sample?.response.headers.get("x-ratelimit-remaining-requests"))).toBeLessThanOrEqual(LEASE * 2);
    expect(sample?.response.headers.get("x-ratelimit-remaining-tokens")).toMatch(/^\d+$/);
    expect(admitted[0]?.response.headers.get("x-ratelimit-limit-requests")).toBe(String(LIMIT));
    // Instances give their unused leases back as they stop: then the row holds exactly what was admitted.
    await Promise.all(app.hosts.map((host) => host.stop()));
    expect((await counters(app.table))["caller:key:dev"]?.requests).toBe(admitted.length);
  });
});

describe("requests per minute across two instances, at a limit smaller than a lease", () => {
  const app = useHosts(2, { CALLER_QUOTAS: "dev:10/1000000" });

  it("admits the limit between them, give or take the other's one-request lease, and refuses the rest with 429 and the rate-limit headers", async () => {
    await awayFromMinuteEnd();
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => chat(app.hosts[i % 2] as Host, question(`Hello number ${i}`))));
    const admitted = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status === 429);
    expect(admitted.length).toBeLessThanOrEqual(10);
    expect(admitted.length).toBeGreaterThanOrEqual(9);
    expect(refused).toHaveLength(30 - admitted.length);
    expect(app.emulator.emulator.log.entries()).toHaveLength(admitted.length);
    expect(refused[0]?.json).toMatchObject({ error: { code: "quota_exceeded" } });
    const remaining = admitted.map((a) => Number(a.response.headers.get("x-ratelimit-remaining-requests"))).sort((a, b) => a - b);
    expect(remaining[0]).toBeLessThanOrEqual(1);
    expect(admitted[0]?.response.headers.get("x-ratelimit-limit-requests")).toBe("10");
  });
});

describe("tokens per minute across two instances", () => {
  const LIMIT = 2_000;
  const app = useHosts(2, { CALLER_QUOTAS: `dev:100000/${LIMIT}` });

  it("keeps the tokens the model reported for admitted calls within the limit, and books exactly those", async () => {
    await awayFromMinuteEnd();
    // 100 calls of about 28 tokens each use more than the limit whatever their timing: some must be refused
    // even when early calls' unused reservations come back before later ones are admitted (60 did not, once).
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) => chat(app.hosts[i % 2] as Host, question(`Please tell me something about quotas, number ${i}`))),
    );
    const admitted = answers.filter((a) => a.status === 200);
    const used = admitted.reduce((sum, a) => sum + (a.json.usage.total_tokens as number), 0);
    expect(admitted.length).toBeGreaterThan(0);
    expect(answers.some((a) => a.status === 429)).toBe(true);
    // Each reservation (prompt estimate + max_tokens) covers what the call used: no overshoot at all.
    expect(used).toBeLessThanOrEqual(LIMIT);
    const booked = await eventually(
      () => counters(app.table),
      (c) => c["caller:key:dev"]?.tokens === used,
    );
    expect(booked["caller:key:dev"]).toEqual({ requests: admitted.length, tokens: used });
    expect(booked["deployment:mistral-large"]).toEqual({ requests: admitted.length, tokens: used });
  });
});

describe("charging streamed answers", () => {
  const app = useHosts(2, { MODEL_MAX_RETRIES: "0" });

  it("charges a stream what its last chunk reports, and a broken stream its prompt and what was sent", async () => {
    await awayFromMinuteEnd();
    const host = app.hosts[0] as Host;
    const whole = await chat(host, question("Stream me something", { stream: true, stream_options: { include_usage: true } }));
    const usage = JSON.parse(
      whole.text
        .split("\n\n")
        .filter((f) => f.includes('"usage"'))
        .pop()
        ?.slice(6) ?? "{}",
    ).usage;
    expect(usage.total_tokens).toBeGreaterThan(0);
    const afterWhole = await eventually(
      () => counters(app.table),
      (c) => c["caller:key:dev"]?.tokens === usage.total_tokens,
    );
    expect(afterWhole["caller:key:dev"]).toEqual({ requests: 1, tokens: usage.total_tokens });

    await postJson(`${app.emulator.url}/_emulator/faults`, { faults: [{ reset_after_chunks: 3 }] });
    const broken = await chat(host, question("Stream me something", { stream: true }));
    expect(broken.text).toContain("upstream_stream_broken");
    // The prompt's estimate and the text sent before the reset (of its 3 chunks, the first carried only
    // the role), not the 60 tokens of max_tokens reserved.
    const prompt = estimatePromptTokens(question("Stream me something").messages);
    const afterBroken = await eventually(
      () => counters(app.table),
      (c) => c["caller:key:dev"]?.requests === 2 && c["caller:key:dev"].tokens < usage.total_tokens + 60,
    );
    expect(afterBroken["caller:key:dev"]).toEqual({ requests: 2, tokens: usage.total_tokens + prompt + 2 });
  });
});
