import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { APP_ROOT, startHost } from "../support/host.js";

/**
 * The local host runs timer-triggered functions on their NCRONTAB schedules (seconds first), one run at
 * a time per function, with the timer object the library hands the function.
 */
let host: Awaited<ReturnType<typeof startHost>>;
const FIXTURE = join(APP_ROOT, "test", "fixtures", "host-app");

beforeAll(async () => {
  host = await startHost({ AzureWebJobsStorage: inject("storageConnectionString"), FIXTURE_QUEUE: `timers-${process.pid}` }, FIXTURE);
});
afterAll(() => host?.stop());

interface Run {
  at: number;
  isPastDue: boolean;
  next: string;
  functionName: string;
}

describe("local host: timer triggers", () => {
  it("runs a function on its schedule, never two runs of it at once", async () => {
    await new Promise((resolve) => setTimeout(resolve, 6_500));
    const runs = (await (await fetch(`${host.url}/api/timer-runs`)).json()) as Run[];
    // Due every second, each run 1.5 s long: a run, then the due time it overlapped is skipped.
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(runs.length).toBeLessThanOrEqual(4);
    for (const [index, run] of runs.entries()) {
      expect(run).toMatchObject({ isPastDue: false, functionName: "everySecond" });
      expect(Date.parse(run.next)).toBeGreaterThan(run.at);
      if (index > 0) expect(run.at - (runs[index - 1] as Run).at).toBeGreaterThanOrEqual(1_500);
    }
  });
});
