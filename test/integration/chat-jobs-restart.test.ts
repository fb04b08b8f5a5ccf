import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { postJson, startEmulator } from "../support/emulator.js";
import { settingsFor, startHost } from "../support/host.js";
import { admittedRequests } from "../support/quota-rows.js";

/**
 * A job's worker killed mid-run (the host's process, SIGKILL, not a mock): once its queue message's lease
 * and the job's own lease have run out, the next host runs the job again and it ends, once; runs are
 * bounded by JOB_MAX_ATTEMPTS, after which the job ends with `job_abandoned`; a rerun is not charged.
 */
const suffix = randomUUID().slice(0, 8);
let emulator: Awaited<ReturnType<typeof startEmulator>>;
let host: Awaited<ReturnType<typeof startHost>>;
let settings: Record<string, string>;

beforeAll(async () => {
  emulator = await startEmulator();
  settings = settingsFor(inject("stackSettings"), emulator.url, {
    FUNCTIONS_HOST_QUEUE_LEASE_MS: "2000",
    JOB_LEASE_MS: "10000",
    JOB_MAX_ATTEMPTS: "2",
    JOB_RETRY_AFTER_SECONDS: "1",
    JOB_QUEUE: `restart-${suffix}`,
    JOB_TABLE: `restart${suffix}`,
    JOB_CONTAINER: `restart-${suffix}`,
    CALLER_QUOTAS: "dev:1000/10000000",
    // The quota rows count admissions exactly only without leases held ahead (a killed host keeps its own).
    QUOTA_LEASE_PERCENT: "0",
  });
  host = await startHost(settings);
});

afterAll(async () => {
  await host?.stop();
  await emulator?.close();
});

const dev = { "api-key": "dev-key" };
const hello = { messages: [{ role: "user", content: "How many languages are in the world?" }] };
const modelCalls = () => emulator.emulator.log.entries().filter((entry) => entry.path.endsWith("/chat/completions"));
const slow = (tokenDelayMs: number) => postJson(`${emulator.url}/_emulator/settings`, { token_delay_ms: tokenDelayMs });
const poll = async (location: string) => {
  const response = await fetch(location, { headers: dev });
  return { status: response.status, json: (await response.json()) as Record<string, any> };
};

/** Kills the host's process as a crash would (no chance to settle anything), then starts a new one. */
async function crashAndRestart(): Promise<void> {
  host.service.child.kill("SIGKILL");
  await host.stop();
  host = await startHost(settings);
}

async function untilModelCalls(count: number): Promise<void> {
  await expect.poll(() => modelCalls().length, { timeout: 30_000, interval: 100 }).toBe(count);
}

async function untilFinal(location: string, timeoutMs = 60_000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const answer = await poll(location);
    if (answer.status !== 202) return answer;
    if (Date.now() > end) throw new Error(`job still ${answer.json.status}`);
    await sleep(250);
  }
}

describe("a job whose worker is killed", () => {
  it("is run again by the next host, reaches one final state, and the rerun is not charged", { timeout: 90_000 }, async () => {
    emulator.emulator.reset();
    await slow(500);
    const submitted = await postJson(`${host.url}/api/chat/jobs`, hello, dev);
    expect(submitted.status).toBe(202);
    const location = submitted.response.headers.get("location") as string;
    await untilModelCalls(1);
    expect((await poll(location)).json.status).toBe("running");
    await crashAndRestart();
    await slow(0);
    const location2 = location.replace(/^http:\/\/localhost:\d+/, host.url);
    const done = await untilFinal(location2);
    expect(done.status).toBe(200);
    expect(done.json.message.content.length).toBeGreaterThan(0);
    // Two generations in all: the one cut off by the crash, and the rerun; never a third.
    expect(modelCalls()).toHaveLength(2);
    expect(modelCalls()[0]?.outcome.done).toBeUndefined();
    expect(modelCalls()[1]?.outcome.done).toBe(true);
    await sleep(3_000);
    expect(modelCalls()).toHaveLength(2);
    expect((await poll(location2)).status).toBe(200);
    // The submission's reservation was the job's one admission: the rerun took none (counted over every
    // minute's window, as the test may cross one).
    expect(await admittedRequests(settings.QUOTA_TABLE as string)).toBe(1);
  });

  it("ends with job_abandoned once every run allowed (JOB_MAX_ATTEMPTS) was cut off", { timeout: 90_000 }, async () => {
    emulator.emulator.reset();
    await slow(500);
    const submitted = await postJson(`${host.url}/api/chat/jobs`, hello, dev);
    const id = submitted.json.id as string;
    await untilModelCalls(1);
    await crashAndRestart();
    await untilModelCalls(2);
    await crashAndRestart();
    await slow(0);
    const failed = await untilFinal(`${host.url}/api/chat/jobs/${id}`);
    expect(failed.status).toBe(500);
    expect(failed.json.code).toBe("job_abandoned");
    expect(failed.json.request_id).toEqual(expect.any(String));
    await sleep(3_000);
    expect(modelCalls()).toHaveLength(2);
  });
});
