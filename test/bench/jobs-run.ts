import { setTimeout as sleep } from "node:timers/promises";
import { TableClient } from "@azure/data-tables";
import type { Service } from "../../dev/stack/processes.js";
import { hostSettings, printTable, startEmulatorService, startHost } from "./services.js";
import { startAzurite } from "./variants.js";

/**
 * The jobs' load run: `jobs` chat jobs submitted at once while the emulator fails a share of the model
 * calls (5xx, throttling, broken and stalled streams, no answer). Every job must reach exactly one final
 * state (its GET answers the same twice, and is never a 202 again), no job may be run twice (each row's
 * run count is 1, and no job's prompt reached the model in two finished generations), and the figures
 * are jobs per second and the time from submission to the job's final write, p50 and p99.
 */
export interface JobsLoad {
  hostUrl: string;
  emulatorUrl: string;
  /** The storage account of the host, to read the jobs' rows. */
  connectionString: string;
  table: string;
  jobs: number;
  faultShare: number;
}

export interface JobsLoadResult {
  jobs: number;
  /** Jobs by final status (200, or a problem's status and code). */
  outcomes: Record<string, number>;
  faults: number;
  /** Jobs whose GET was still 202, or changed between two reads after the run. */
  unsettled: string[];
  /** Jobs run more than once, or whose prompt ended in more than one finished generation. */
  runTwice: string[];
  jobsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** Settings the load run's host needs on top of the app's: fast attempts and silences, jobs polled each second. */
export const JOBS_LOAD_SETTINGS = {
  MODEL_MAX_RETRIES: "2",
  MODEL_RETRY_BASE_DELAY_MS: "50",
  MODEL_ATTEMPT_TIMEOUT_MS: "2000",
  MODEL_IDLE_TIMEOUT_MS: "1000",
  BREAKER_FAILURES: "1000",
  JOB_RETRY_AFTER_SECONDS: "1",
};

const FAULTS = [
  { status: 500 },
  { status: 503, headers: { "retry-after": "1" } },
  { status: 429, headers: { "retry-after": "1" } },
  { reset_after_chunks: 3 },
  { stall_after_chunks: 2 },
  { omit_done: true },
  { no_response: true },
  { malformed_chunk: 2 },
];

const headers = { "content-type": "application/json", "api-key": "dev-key" };

export async function runJobsLoad(load: JobsLoad): Promise<JobsLoadResult> {
  const faults = Math.round(load.jobs * load.faultShare);
  const injected = Array.from({ length: faults }, (_, i) => ({ ...FAULTS[i % FAULTS.length], times: 1 }));
  await fetch(`${load.emulatorUrl}/_emulator/faults`, { method: "POST", body: JSON.stringify({ faults: injected }) });

  const submitted = await Promise.all(
    Array.from({ length: load.jobs }, async (_, index) => {
      const body = { messages: [{ role: "user", content: `Job ${index}: how many languages are in the world?` }] };
      const sentAt = Date.now();
      const response = await fetch(`${load.hostUrl}/api/chat/jobs`, { method: "POST", headers, body: JSON.stringify(body) });
      const json = (await response.json()) as { id?: string };
      if (response.status !== 202 || !json.id) throw new Error(`job ${index} was not accepted: ${response.status} ${JSON.stringify(json)}`);
      return { index, id: json.id, location: response.headers.get("location") as string, sentAt };
    }),
  );

  // Poll as a client does, each job after its Retry-After, until none answers 202.
  const final = new Map<string, string>();
  const deadline = Date.now() + 10 * 60_000;
  while (final.size < submitted.length && Date.now() < deadline) {
    await sleep(1_000);
    await Promise.all(
      submitted
        .filter((job) => !final.has(job.id))
        .map(async (job) => {
          const answer = await read(job.location);
          if (answer.status !== 202) final.set(job.id, answer.key);
        }),
    );
  }

  const unsettled: string[] = [];
  const outcomes: Record<string, number> = {};
  for (const job of submitted) {
    const first = final.get(job.id);
    const again = (await read(job.location)).key;
    if (first === undefined || first !== again) unsettled.push(job.id);
    if (first !== undefined) outcomes[first] = (outcomes[first] ?? 0) + 1;
  }

  // From storage: each job's runs, and when its final state was written.
  const rows = TableClient.fromConnectionString(load.connectionString, load.table, { allowInsecureConnection: true });
  const doneAt = new Map<string, { attempts: number; at: number }>();
  for await (const row of rows.listEntities<{ attempts: number }>({ queryOptions: { filter: "PartitionKey eq 'key:dev'" } })) {
    doneAt.set(String(row.rowKey), { attempts: Number(row.attempts), at: Date.parse(String(row.timestamp)) });
  }
  const log = (await (await fetch(`${load.emulatorUrl}/_emulator/requests`)).json()) as {
    requests: { body?: { messages?: { content?: string }[] }; outcome: { done?: boolean } }[];
  };
  const generations = new Map<number, number>();
  for (const request of log.requests) {
    const index = Number(/^Job (\d+):/.exec(request.body?.messages?.[0]?.content ?? "")?.[1] ?? Number.NaN);
    if (request.outcome.done && Number.isInteger(index)) generations.set(index, (generations.get(index) ?? 0) + 1);
  }
  const runTwice = submitted.filter((job) => (doneAt.get(job.id)?.attempts ?? 0) !== 1 || (generations.get(job.index) ?? 0) > 1).map((job) => job.id);

  const times = submitted.map((job) => (doneAt.get(job.id)?.at ?? Number.NaN) - job.sentAt).sort((a, b) => a - b);
  const first = Math.min(...submitted.map((job) => job.sentAt));
  const last = Math.max(...submitted.map((job) => doneAt.get(job.id)?.at ?? 0));
  return {
    jobs: load.jobs,
    outcomes,
    faults,
    unsettled,
    runTwice,
    jobsPerSecond: load.jobs / ((last - first) / 1000),
    p50Ms: percentileOf(times, 50),
    p99Ms: percentileOf(times, 99),
  };
}

async function read(location: string): Promise<{ status: number; key: string }> {
  const response = await fetch(location, { headers });
  const body = (await response.json()) as { code?: string };
  return { status: response.status, key: response.status === 200 ? "200" : `${response.status} ${body.code ?? ""}`.trim() };
}

function percentileOf(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

/** The load run's rows in the bench's table. */
export function jobsLoadRows(result: JobsLoadResult): Array<[string, string]> {
  const outcomes = Object.entries(result.outcomes)
    .map(([key, count]) => `${key}: ${count}`)
    .join(", ");
  return [
    [`jobs: ${result.jobs} submitted at once, ${result.faults} model faults injected`, outcomes],
    [
      "jobs: every job in exactly one final state / none run twice",
      `${result.unsettled.length === 0 ? "yes" : `no (${result.unsettled.length})`} / ${result.runTwice.length === 0 ? "yes" : `no (${result.runTwice.length})`}`,
    ],
    ["jobs: jobs per second, first submission to last final write", result.jobsPerSecond.toFixed(1)],
    ["jobs: submission to final state, p50 / p99", `${(result.p50Ms / 1000).toFixed(2)} s / ${(result.p99Ms / 1000).toFixed(2)} s`],
  ];
}

/** The load run with an Azurite, an emulator and a host of its own; `npm run bench` runs it last. */
export async function measureJobsLoad(jobs = 200): Promise<JobsLoadResult> {
  const services: Service[] = [];
  const azurite = await startAzurite();
  try {
    const emulator = await startEmulatorService();
    services.push(emulator.service);
    const table = "benchjobs";
    const settings = { ...hostSettings(emulator.url, azurite.connectionString), ...JOBS_LOAD_SETTINGS, JOB_TABLE: table };
    const host = await startHost(settings);
    services.push(host.service);
    return await runJobsLoad({ hostUrl: host.url, emulatorUrl: emulator.url, connectionString: azurite.connectionString, table, jobs, faultShare: 0.05 });
  } finally {
    await Promise.all(services.map((s) => s.stop()));
    await azurite.stop();
  }
}

/** `npm run bench -- --jobs`: the load run alone; exits with 1 when a job did not settle once or ran twice. */
export async function jobsRun(): Promise<void> {
  const result = await measureJobsLoad();
  printTable(["figure", "value"], jobsLoadRows(result));
  if (result.unsettled.length > 0 || result.runTwice.length > 0) process.exitCode = 1;
}
