import { randomUUID } from "node:crypto";
import { TableClient } from "@azure/data-tables";
import { describe, expect, inject, it } from "vitest";
import { Secret } from "../../src/config/secret.js";
import { TableIdempotencyStore } from "../../src/idempotency/idempotency-store.js";
import { TableJobStore } from "../../src/jobs/job-store.js";
import { useOwnApp } from "../support/host.js";

/**
 * The jobs' sweeper on its timer, in the local host: a job stranded in `running` (its worker died and
 * its message is gone) is sent again and finished; an expired job and an expired Idempotency-Key are
 * deleted from storage without anyone reading them.
 */
const suffix = randomUUID().slice(0, 8);
const jobs = { table: `sweep${suffix}`, container: `sweep-${suffix}`, retentionMs: 24 * 3_600_000, maxAttempts: 3, leaseMs: 10_000 };
const idempotencyTable = `sweepidem${suffix}`;
const app = useOwnApp({
  JOB_QUEUE: `sweep-${suffix}`,
  JOB_TABLE: jobs.table,
  JOB_CONTAINER: jobs.container,
  JOB_LEASE_MS: String(jobs.leaseMs),
  JOB_SWEEP_SCHEDULE: "*/2 * * * * *",
  IDEMPOTENCY_TABLE: idempotencyTable,
});
const connectionString = inject("storageConnectionString");
const storage = { kind: "connectionString" as const, connectionString: new Secret(connectionString) };
const body = JSON.stringify({ messages: [{ role: "user", content: "How many languages are in the world?" }] });
const job = { callerId: "key:dev", request: body, allowFallback: false, requestId: randomUUID().replaceAll("-", "") };

async function exists(table: string, partitionKey: string, rowKey: string): Promise<boolean> {
  try {
    await TableClient.fromConnectionString(connectionString, table, { allowInsecureConnection: true }).getEntity(partitionKey, rowKey);
    return true;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return false;
    throw error;
  }
}

describe("the jobs' sweeper", () => {
  it("finishes a job stranded in running, whose worker died and whose message is gone", { timeout: 90_000 }, async () => {
    const deadWorker = new TableJobStore({ storage, jobs });
    const { id } = await deadWorker.create(job);
    expect((await deadWorker.claim(job.callerId, id)).kind).toBe("run");
    // No message exists for it now: only the sweeper can see it, once its lease ran out a lease ago.
    const location = `${app.host.url}/api/chat/jobs/${id}`;
    await expect.poll(async () => (await fetch(location, { headers: { "api-key": "dev-key" } })).status, { timeout: 60_000, interval: 500 }).toBe(200);
    const row = await TableClient.fromConnectionString(connectionString, jobs.table, { allowInsecureConnection: true }).getEntity(job.callerId, id);
    expect(row.attempts).toBe(2);
    const generations = app.emulator.emulator.log.entries().filter((entry) => entry.path.endsWith("/chat/completions"));
    expect(generations).toHaveLength(1);
  });

  it("deletes an expired job and an expired Idempotency-Key without anyone reading them", { timeout: 30_000 }, async () => {
    const dayAgo = Date.now() - 25 * 3_600_000;
    const { id } = await new TableJobStore({ storage, jobs, now: () => dayAgo }).create(job);
    const keys = new TableIdempotencyStore({ storage, tableName: idempotencyTable, retentionMs: 3_600_000, leaseMs: 60_000, now: () => dayAgo });
    const claim = await keys.begin("key:dev", "an-old-key", "fingerprint");
    expect(claim.kind).toBe("claimed");
    const keyRow = (await TableClient.fromConnectionString(connectionString, idempotencyTable, { allowInsecureConnection: true }).listEntities().next())
      .value as {
      partitionKey: string;
      rowKey: string;
    };
    await expect.poll(() => exists(jobs.table, job.callerId, id), { timeout: 15_000, interval: 500 }).toBe(false);
    await expect.poll(() => exists(idempotencyTable, keyRow.partitionKey, keyRow.rowKey), { timeout: 15_000, interval: 500 }).toBe(false);
  });
});
