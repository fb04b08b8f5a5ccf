import { randomUUID } from "node:crypto";
import { describe, expect, inject, it } from "vitest";
import { JOBS_LOAD_SETTINGS, runJobsLoad } from "../bench/jobs-run.js";
import { useOwnApp } from "../support/host.js";

/**
 * The load run of `npm run bench -- --jobs`, checked: 200 jobs submitted at once while 5% of model
 * calls fail in every way the emulator can fail them. Each job reaches exactly one final state and none
 * is run twice. (The timings it prints are not asserted.)
 */
const suffix = randomUUID().slice(0, 8);
const table = `load${suffix}`;
const app = useOwnApp({
  ...JOBS_LOAD_SETTINGS,
  QUOTAS: "off",
  JOB_QUEUE: `load-${suffix}`,
  JOB_TABLE: table,
  JOB_CONTAINER: `load-${suffix}`,
});

describe("200 jobs at once with 5% model faults", () => {
  it("every job reaches exactly one final state, and none is run twice", { timeout: 300_000 }, async () => {
    const result = await runJobsLoad({
      hostUrl: app.host.url,
      emulatorUrl: app.emulator.url,
      connectionString: inject("storageConnectionString"),
      table,
      jobs: 200,
      faultShare: 0.05,
    });
    expect(result.unsettled).toEqual([]);
    expect(result.runTwice).toEqual([]);
    const total = Object.values(result.outcomes).reduce((sum, count) => sum + count, 0);
    expect(total).toBe(200);
    // Retried faults end well; the ones no retry can mend (a stream broken after its first chunks) fail.
    expect(result.outcomes["200"]).toBeGreaterThanOrEqual(200 - result.faults);
    for (const key of Object.keys(result.outcomes)) expect(key).toMatch(/^(200|50[234] upstream_[a-z_]+|502 bad_upstream_response)$/);
    console.log(`jobs load: ${JSON.stringify({ ...result, unsettled: result.unsettled.length, runTwice: result.runTwice.length })}`);
  });
});
