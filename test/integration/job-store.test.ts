import { randomUUID } from "node:crypto";
import { TableClient } from "@azure/data-tables";
import { BlobServiceClient } from "@azure/storage-blob";
import { afterAll, describe, expect, inject, it } from "vitest";
import { Secret } from "../../src/config/secret.js";
import { type JobStoreOptions, TableJobStore } from "../../src/jobs/job-store.js";
import type { JobClaim, JobLease, JobResult, JobRun, NewJob } from "../../src/jobs/job-types.js";
import { escapeRowKey } from "../../src/storage/row-key.js";

/**
 * The jobs' table and container against Azurite: every change of state a conditional write, two workers
 * never both winning, long requests and results kept byte-exact (in the row or as a blob), and an expired
 * job gone from storage. The clock is the test's, so leases and retention run out without waiting.
 */
const connectionString = inject("storageConnectionString");
const suffix = randomUUID().replaceAll("-", "").slice(0, 12);
const LEASE_MS = 30_000;
const RETENTION_MS = 3_600_000;
const MAX_ATTEMPTS = 3;
const jobs = { table: `jobstore${suffix}`, container: `jobstore-${suffix}`, retentionMs: RETENTION_MS, maxAttempts: MAX_ATTEMPTS, leaseMs: LEASE_MS };

/** A real clock's value (so large numbers go through the table), moved on by the tests only. */
let now = Date.now();
const options: JobStoreOptions = { storage: { kind: "connectionString", connectionString: new Secret(connectionString) }, jobs, now: () => now };
/** Two workers, as two instances of the app would be. */
const store = new TableJobStore(options);
const other = new TableJobStore(options);

const rows = TableClient.fromConnectionString(connectionString, jobs.table, { allowInsecureConnection: true });
const container = BlobServiceClient.fromConnectionString(connectionString).getContainerClient(jobs.container);

/** Characters Table Storage refuses in a key, so the caller's id is escaped on the way. */
const CALLER = "caller:entra/0f1e#2d?3c\\4b%";
const OTHER_CALLER = "caller:entra/someone-else";
/** Multi-byte text: accents, CJK, an emoji with a skin tone and a ZWJ family, a flag. */
const MULTI = "héllo 日本語の文章 👋🏽 👨‍👩‍👧‍👦 🇯🇵 ";
const INLINE_BYTES = 400_000;
/** A result's blob: `<id>/result-<uuid>.json`, one per finish, so a late loser never overwrites the winner's. */
const RESULT_BLOB = (id: string) => new RegExp(`^${id}/result-[0-9a-f-]{36}\\.json$`);

function newJob(request: string, extra: Partial<NewJob> = {}): NewJob {
  return { callerId: CALLER, request, allowFallback: true, requestId: `req-${randomUUID()}`, ...extra };
}

const chatBody = (content: string) => JSON.stringify({ messages: [{ role: "user", content }] });
const answer = (content: string, status = 200): JobResult => ({
  status,
  headers: { "content-type": "application/json", "x-model-deployment": "mistral-large" },
  body: JSON.stringify({ id: "chatcmpl-1", choices: [{ message: { role: "assistant", content } }] }),
});

function expectRun(claim: JobClaim): { run: JobRun; lease: JobLease } {
  if (claim.kind !== "run") throw new Error(`expected a run, got ${JSON.stringify(claim)}`);
  return claim;
}

async function blobNames(id: string): Promise<string[]> {
  if (!(await container.exists())) return [];
  const names: string[] = [];
  for await (const blob of container.listBlobsFlat({ prefix: `${id}/` })) names.push(blob.name);
  return names;
}

async function rowExists(callerId: string, id: string): Promise<boolean> {
  try {
    await rows.getEntity(escapeRowKey(callerId), id);
    return true;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return false;
    throw error;
  }
}

/** The lease runs out: the clock moves past it. */
const staleLease = () => {
  now += LEASE_MS + 1;
};

afterAll(async () => {
  await rows.deleteTable().catch(() => undefined);
  await container.deleteIfExists().catch(() => undefined);
});

describe("TableJobStore", () => {
  it("creates a queued job its caller reads (created in unix seconds, no result) and no other caller finds", async () => {
    const { id, created } = await store.create(newJob(chatBody("hi")));
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(created).toBe(Math.floor(now / 1000));
    const view = await store.read(CALLER, id);
    expect(view).toEqual({ id, status: "queued", created });
    expect(view).not.toHaveProperty("result");
    // Another caller's id finds nothing, the same as an id that does not exist.
    expect(await store.read(OTHER_CALLER, id)).toBeUndefined();
    expect(await store.read(CALLER, randomUUID())).toBeUndefined();
    expect(await store.claim(OTHER_CALLER, id)).toEqual({ kind: "gone" });
    expect(await store.cancel(OTHER_CALLER, id)).toBe("not_found");
    expect(await store.abandon(OTHER_CALLER, id, () => answer("x", 500))).toBe("gone");
    // None of that touched the job.
    expect(await store.read(CALLER, id)).toEqual({ id, status: "queued", created });
  });

  it("gives a queued job to one worker with its request exactly as submitted; a second claim meanwhile is busy for the lease left", async () => {
    // Longer than one table property, with 4-byte characters straddling the 60 000-byte pieces.
    const request = chatBody(`a${"😀".repeat(30_000)}${MULTI.repeat(1_000)}`);
    expect(Buffer.byteLength(request, "utf8")).toBeGreaterThan(120_000);
    expect(Buffer.byteLength(request, "utf8")).toBeLessThan(INLINE_BYTES);
    const job = newJob(request, { keyName: "key-ünïcode", reservation: JSON.stringify({ tokens: 1234, model: "mistral-large" }), allowFallback: false });
    const { id } = await store.create(job);

    const { run, lease } = expectRun(await store.claim(CALLER, id));
    expect(run.attempt).toBe(1);
    expect(run.request === request).toBe(true);
    expect(run).toEqual({ ...job, id, attempt: 1 });
    expect(lease).toMatchObject({ callerId: CALLER, id });
    expect(await blobNames(id)).toEqual([]);
    expect(await store.read(CALLER, id)).toMatchObject({ status: "running" });

    expect(await other.claim(CALLER, id)).toEqual({ kind: "busy", retryInMs: LEASE_MS + 1_000 });
    now += 10_000;
    expect(await other.claim(CALLER, id)).toEqual({ kind: "busy", retryInMs: LEASE_MS - 10_000 + 1_000 });
  });

  it("leaves out keyName and reservation when the job had none, and keeps allowFallback true", async () => {
    const job = newJob(chatBody(MULTI));
    const { id } = await store.create(job);
    const { run } = expectRun(await store.claim(CALLER, id));
    expect(run).toEqual({ ...job, id, attempt: 1 });
    expect(run).not.toHaveProperty("keyName");
    expect(run).not.toHaveProperty("reservation");
    expect(run.allowFallback).toBe(true);
  });

  it("lets exactly one of two racing workers run a queued job", async () => {
    for (let round = 0; round < 5; round++) {
      const { id } = await store.create(newJob(chatBody(`race ${round}`)));
      const claims = await Promise.all([store.claim(CALLER, id), other.claim(CALLER, id)]);
      expect(claims.map((claim) => claim.kind).sort()).toEqual(["busy", "run"]);
    }
    // And of many.
    const { id } = await store.create(newJob(chatBody("race many")));
    const claims = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? store : other).claim(CALLER, id)));
    expect(claims.filter((claim) => claim.kind === "run")).toHaveLength(1);
    expect(claims.filter((claim) => claim.kind === "busy")).toHaveLength(5);
  });

  it("reruns a job whose worker died, up to maxAttempts runs, then hands it over exhausted to be failed", async () => {
    const job = newJob(chatBody(MULTI));
    const { id } = await store.create(job);
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const { run } = expectRun(await (attempt % 2 ? store : other).claim(CALLER, id));
      expect(run.attempt).toBe(attempt);
      expect(run.request).toBe(job.request);
      // Still live just before the lease's end.
      now += LEASE_MS - 1;
      expect((await store.claim(CALLER, id)).kind).toBe("busy");
      now += 2;
    }
    const exhausted = await store.claim(CALLER, id);
    if (exhausted.kind !== "exhausted") throw new Error(`expected exhausted, got ${exhausted.kind}`);
    expect(exhausted.requestId).toBe(job.requestId);
    expect(exhausted.lease).toMatchObject({ callerId: CALLER, id });

    const problem = answer(`job_abandoned ${job.requestId}`, 500);
    expect(await store.finish(exhausted.lease, "failed", problem)).toBe(true);
    expect(await store.read(CALLER, id)).toMatchObject({ id, status: "failed", result: problem });
    expect(await store.claim(CALLER, id)).toEqual({ kind: "gone" });
  });

  it("renews a live lease (held) and tells the worker when the job was cancelled", async () => {
    const { id } = await store.create(newJob(chatBody("renew me")));
    const { lease } = expectRun(await store.claim(CALLER, id));
    const first = lease.etag;
    // A renewal just before the lease's end keeps it a whole lease longer.
    now += LEASE_MS - 1_000;
    expect(await store.renew(lease)).toBe("held");
    expect(lease.etag).not.toBe(first);
    now += LEASE_MS - 1_000;
    expect(await other.claim(CALLER, id)).toEqual({ kind: "busy", retryInMs: 2_000 });
    expect(await store.renew(lease)).toBe("held");

    expect(await other.cancel(CALLER, id)).toBe("cancelled");
    expect(await store.renew(lease)).toBe("cancelled");
    // A late finish writes nothing, not even a blob for its long result.
    expect(await store.finish(lease, "succeeded", answer(`too late ${"遅".repeat(150_000)}`))).toBe(false);
    expect(await store.read(CALLER, id)).toEqual({ id, status: "cancelled", created: expect.any(Number) });
    expect(await blobNames(id)).toEqual([]);
    expect(await store.claim(CALLER, id)).toEqual({ kind: "gone" });
  });

  it("keeps a run whose own write went through but whose answer was lost (a stale ETag, the row still its run's)", async () => {
    const { id } = await store.create(newJob(chatBody("lost answer")));
    const { lease } = expectRun(await store.claim(CALLER, id));
    // The write reached the table, its answer did not: the worker still holds the ETag from before.
    const stale = { ...lease };
    expect(await store.renew(lease)).toBe("held");
    expect(stale.etag).not.toBe(lease.etag);
    expect(await store.renew(stale)).toBe("held");
    expect(stale.etag).not.toBe(lease.etag);
    expect(await store.finish(lease, "succeeded", answer("kept"))).toBe(true);
    const view = await store.read(CALLER, id);
    expect(view?.status).toBe("succeeded");
    expect(JSON.parse(view?.result?.body ?? "{}").choices[0].message.content).toBe("kept");
  });

  it("tells a worker whose job was taken over that it lost it, and its late finish changes nothing", async () => {
    const { id } = await store.create(newJob(chatBody("take over")));
    const first = expectRun(await store.claim(CALLER, id));
    staleLease();
    const second = expectRun(await other.claim(CALLER, id));
    expect(second.run.attempt).toBe(2);

    expect(await store.renew(first.lease)).toBe("lost");
    // The second worker's lease is untouched by the first's failed renewal.
    expect(await other.renew(second.lease)).toBe("held");

    const outcome = answer(`second ${MULTI}`);
    expect(await other.finish(second.lease, "succeeded", outcome)).toBe(true);
    expect(await store.finish(first.lease, "failed", answer("first, late", 502))).toBe(false);
    expect(await store.renew(first.lease)).toBe("lost");
    expect(await store.read(CALLER, id)).toEqual({ id, status: "succeeded", created: expect.any(Number), result: outcome });
  });

  it("keeps the new worker's long result when the worker it took over from finishes late with a long result too", async () => {
    const { id } = await store.create(newJob(chatBody("take over, long results")));
    const first = expectRun(await store.claim(CALLER, id));
    staleLease();
    const second = expectRun(await other.claim(CALLER, id));

    const outcome = answer(`second ${"二".repeat(150_000)}`);
    expect(Buffer.byteLength(outcome.body, "utf8")).toBeGreaterThan(INLINE_BYTES);
    expect(await other.finish(second.lease, "succeeded", outcome)).toBe(true);
    const late = answer(`first ${"一".repeat(150_000)}`, 502);
    expect(await store.finish(first.lease, "failed", late)).toBe(false);

    const view = await store.read(CALLER, id);
    expect(view?.status).toBe("succeeded");
    expect(view?.result?.status).toBe(200);
    expect(view?.result?.body === outcome.body).toBe(true);
    // Only the winner's result is kept: the loser's blob is not left behind.
    expect(await blobNames(id)).toEqual([expect.stringMatching(RESULT_BLOB(id))]);
  });

  it("keeps a result longer than a row as a blob, byte-exact; a short one stays in the row", async () => {
    const { id } = await store.create(newJob(chatBody("long answer")));
    const { lease } = expectRun(await store.claim(CALLER, id));
    const long = answer(`${MULTI}${"長い答え🙂".repeat(40_000)}`);
    expect(Buffer.byteLength(long.body, "utf8")).toBeGreaterThan(INLINE_BYTES);
    expect(await store.renew(lease)).toBe("held");
    expect(await store.finish(lease, "succeeded", long)).toBe(true);
    const view = await store.read(CALLER, id);
    expect(view?.status).toBe("succeeded");
    expect(view?.result?.headers).toEqual(long.headers);
    expect(Buffer.from(view?.result?.body ?? "", "utf8").equals(Buffer.from(long.body, "utf8"))).toBe(true);
    const blobs = await blobNames(id);
    expect(blobs).toEqual([expect.stringMatching(RESULT_BLOB(id))]);
    const stored = await container.getBlockBlobClient(blobs[0]!).downloadToBuffer();
    expect(stored.equals(Buffer.from(long.body, "utf8"))).toBe(true);

    const short = await store.create(newJob(chatBody("short answer")));
    const shortRun = expectRun(await store.claim(CALLER, short.id));
    // Just at the limit, still in the row (as pieces of at most 60 000 bytes).
    const atLimit = answer("é".repeat(INLINE_BYTES / 2 - 100));
    const padding = INLINE_BYTES - Buffer.byteLength(atLimit.body, "utf8");
    atLimit.body = `${atLimit.body.slice(0, -1)}${" ".repeat(padding)}}`;
    expect(Buffer.byteLength(atLimit.body, "utf8")).toBe(INLINE_BYTES);
    expect(await store.finish(shortRun.lease, "succeeded", atLimit)).toBe(true);
    expect((await store.read(CALLER, short.id))?.result).toEqual(atLimit);
    expect(await blobNames(short.id)).toEqual([]);
  });

  it("keeps a request longer than a row as a blob and gives it back exactly when the job is claimed", async () => {
    const request = chatBody(`${MULTI}${"𝔘𝔫𝔦𝔠𝔬𝔡𝔢 中文".repeat(20_000)}`);
    expect(Buffer.byteLength(request, "utf8")).toBeGreaterThan(INLINE_BYTES);
    const job = newJob(request, { keyName: "big" });
    const { id } = await store.create(job);
    expect(await blobNames(id)).toEqual([`${id}/request.json`]);
    expect(await store.read(CALLER, id)).toMatchObject({ status: "queued" });
    const { run } = expectRun(await other.claim(CALLER, id));
    expect(run.request.length).toBe(request.length);
    expect(run.request === request).toBe(true);
    expect(run).toEqual({ ...job, id, attempt: 1 });
  });

  it("cancels a queued job once; a finished job stays finished; an unknown one is not found", async () => {
    const { id, created } = await store.create(newJob(chatBody("cancel me")));
    expect(await store.cancel(CALLER, id)).toBe("cancelled");
    expect(await store.read(CALLER, id)).toEqual({ id, status: "cancelled", created });
    expect(await store.cancel(CALLER, id)).toBe("cancelled");
    expect(await store.claim(CALLER, id)).toEqual({ kind: "gone" });
    expect(await store.abandon(CALLER, id, () => answer("x", 500))).toBe("gone");
    expect(await store.read(CALLER, id)).toEqual({ id, status: "cancelled", created });

    const running = await store.create(newJob(chatBody("cancel me running")));
    expectRun(await store.claim(CALLER, running.id));
    expect(await other.cancel(CALLER, running.id)).toBe("cancelled");
    expect(await store.read(CALLER, running.id)).toMatchObject({ status: "cancelled" });

    for (const status of ["succeeded", "failed"] as const) {
      const done = await store.create(newJob(chatBody(`finish ${status}`)));
      const { lease } = expectRun(await store.claim(CALLER, done.id));
      const result = answer(status, status === "succeeded" ? 200 : 500);
      expect(await store.finish(lease, status, result)).toBe(true);
      expect(await store.cancel(CALLER, done.id)).toBe("finished");
      expect(await store.read(CALLER, done.id)).toEqual({ id: done.id, status, created: done.created, result });
    }

    expect(await store.cancel(CALLER, randomUUID())).toBe("not_found");
  });

  it("forgets a job after the retention window: read finds nothing and its row and blobs are deleted", async () => {
    const created = now;
    const request = chatBody("長".repeat(150_000));
    const { id } = await store.create(newJob(request));
    const { lease } = expectRun(await store.claim(CALLER, id));
    expect(await store.finish(lease, "succeeded", answer("答".repeat(150_000)))).toBe(true);
    const small = await store.create(newJob(chatBody("small")));
    expect((await blobNames(id)).sort()).toEqual([`${id}/request.json`, expect.stringMatching(RESULT_BLOB(id))]);

    now = created + RETENTION_MS - 1;
    expect(await store.read(CALLER, id)).toMatchObject({ status: "succeeded" });
    now = created + RETENTION_MS + 1;
    expect(await store.read(CALLER, id)).toBeUndefined();
    expect(await rowExists(CALLER, id)).toBe(false);
    expect(await blobNames(id)).toEqual([]);

    // An expired job is gone for every operation, and is deleted by whichever finds it first.
    expect(await rowExists(CALLER, small.id)).toBe(true);
    expect(await store.claim(CALLER, small.id)).toEqual({ kind: "gone" });
    expect(await rowExists(CALLER, small.id)).toBe(false);
    expect(await store.cancel(CALLER, small.id)).toBe("not_found");
  });

  it("sweeps: deletes expired jobs with their blobs, and names the stranded ones (a dead run's, a long-queued one's), no others", async () => {
    const GRACE_MS = 10 * 60_000;
    const start = now;
    const expiring = await store.create(newJob(chatBody("長".repeat(150_000))));
    now = start + RETENTION_MS / 2;
    const dead = await store.create(newJob(chatBody("dead run")));
    expectRun(await store.claim(CALLER, dead.id));
    const live = await store.create(newJob(chatBody("live run")));
    const queuedLong = await store.create(newJob(chatBody("queued long")));
    const finished = await store.create(newJob(chatBody("finished")));
    expect(await store.finish(expectRun(await store.claim(CALLER, finished.id)).lease, "succeeded", answer("done"))).toBe(true);
    now += GRACE_MS + 1;
    const fresh = await store.create(newJob(chatBody("queued now")));
    expectRun(await store.claim(CALLER, live.id));
    // The dead run's lease ran out a lease ago; the live one was just taken.
    now += LEASE_MS + 1;
    await store.renew(expectRun(await store.claim(CALLER, (await store.create(newJob(chatBody("renewed")))).id)).lease);
    const swept = await store.sweep(GRACE_MS);
    const ids = swept.stale.map((message) => message.id);
    expect(ids).toEqual(expect.arrayContaining([dead.id, queuedLong.id]));
    for (const id of [live.id, fresh.id, finished.id]) expect(ids).not.toContain(id);
    expect(swept.stale.find((message) => message.id === dead.id)).toEqual({ callerId: CALLER, id: dead.id });
    expect(await rowExists(CALLER, expiring.id)).toBe(true);

    now = start + RETENTION_MS + 1;
    const later = await store.sweep(GRACE_MS);
    expect(later.deleted).toBeGreaterThanOrEqual(1);
    expect(await rowExists(CALLER, expiring.id)).toBe(false);
    expect(await blobNames(expiring.id)).toEqual([]);
    expect(await rowExists(CALLER, dead.id)).toBe(true);
  });

  it("abandons a queued or dead job with the given result, not a live one nor a final one", async () => {
    const queued = newJob(chatBody("poisoned"));
    const { id, created } = await store.create(queued);
    const seen: string[] = [];
    const problem = (requestId: string) => {
      seen.push(requestId);
      return answer(`job_abandoned ${requestId} ${MULTI}`, 500);
    };
    expect(await store.abandon(CALLER, id, problem)).toBe("abandoned");
    expect(seen).toEqual([queued.requestId]);
    expect(await store.read(CALLER, id)).toEqual({ id, status: "failed", created, result: problem(queued.requestId) });
    expect(await store.abandon(CALLER, id, problem)).toBe("gone");
    expect(await store.claim(CALLER, id)).toEqual({ kind: "gone" });

    const live = await store.create(newJob(chatBody("still running")));
    const { lease } = expectRun(await store.claim(CALLER, live.id));
    expect(await other.abandon(CALLER, live.id, problem)).toBe("busy");
    expect(await store.read(CALLER, live.id)).toMatchObject({ status: "running" });
    // Its worker dies: the lease runs out and the job can be abandoned; the worker's late finish loses.
    staleLease();
    expect(await other.abandon(CALLER, live.id, problem)).toBe("abandoned");
    expect(await store.finish(lease, "succeeded", answer("late"))).toBe(false);
    expect(await store.renew(lease)).toBe("lost");
    expect(await store.read(CALLER, live.id)).toMatchObject({ status: "failed", result: { status: 500 } });

    const finished = await store.create(newJob(chatBody("done")));
    const run = expectRun(await store.claim(CALLER, finished.id));
    expect(await store.finish(run.lease, "succeeded", answer("ok"))).toBe(true);
    expect(await store.abandon(CALLER, finished.id, problem)).toBe("gone");
    expect(await store.read(CALLER, finished.id)).toMatchObject({ status: "succeeded", result: answer("ok") });

    const cancelled = await store.create(newJob(chatBody("cancelled")));
    await store.cancel(CALLER, cancelled.id);
    expect(await store.abandon(CALLER, cancelled.id, problem)).toBe("gone");
    expect(await store.abandon(CALLER, randomUUID(), problem)).toBe("gone");
  });
});
