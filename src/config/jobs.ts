import type { SettingsReader } from "./settings-reader.js";

export interface JobsConfig {
  /** The Storage queue jobs wait in; its poison queue is `<queue>-poison`. */
  readonly queue: string;
  /** The table of jobs: state, request and result. */
  readonly table: string;
  /** The blob container for requests and results too large for a table row. */
  readonly container: string;
  /** What `Retry-After` tells a client polling a job that is not done. */
  readonly retryAfterSeconds: number;
  /** How long a job and its result are kept after it was submitted. */
  readonly retentionMs: number;
  /** Runs of one job at most, the first included: a worker that died mid-job counts one. */
  readonly maxAttempts: number;
  /** One run's whole time: every model call and tool of the job. */
  readonly timeoutMs: number;
  /** A running job unheard of for this long is taken to be dead (its worker renews it every few seconds). */
  readonly leaseMs: number;
  /** When the sweeper runs (NCRONTAB, seconds first): expired jobs and keys deleted, stranded jobs sent again. */
  readonly sweepSchedule: string;
}

/** Storage queue and blob container names: 3 to 63 lowercase letters, digits and single hyphens. */
const QUEUE_NAME = /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/;

/**
 * The host's function timeout (host.json `functionTimeout`, 30 minutes) bounds a run; a job's own
 * timeout stays below it so the job ends with its problem rather than with the host killing the run.
 */
const MAX_JOB_TIMEOUT_MS = 25 * 60_000;

/**
 * `JOB_QUEUE` (default `chat-jobs`), `JOB_TABLE` (`chatjobs`), `JOB_CONTAINER` (`chat-jobs`),
 * `JOB_RETRY_AFTER_SECONDS` (5), `JOB_RETENTION_HOURS` (24, as Idempotency-Key), `JOB_MAX_ATTEMPTS` (3),
 * `JOB_TIMEOUT_MS` (10 minutes), `JOB_LEASE_MS` (30 s) and `JOB_SWEEP_SCHEDULE` (every 5 minutes).
 */
export function readJobs(settings: SettingsReader): JobsConfig {
  const queue = settings.string("JOB_QUEUE", { required: false }) ?? "chat-jobs";
  // The poison queue's name adds 7 characters and must still be a queue name.
  if (!QUEUE_NAME.test(queue) || queue.length > 56) settings.problem("JOB_QUEUE must be 3 to 56 lowercase letters, digits and single hyphens");
  const container = settings.string("JOB_CONTAINER", { required: false }) ?? "chat-jobs";
  if (!QUEUE_NAME.test(container)) settings.problem("JOB_CONTAINER must be 3 to 63 lowercase letters, digits and single hyphens");
  return {
    queue,
    table: settings.tableName("JOB_TABLE", "chatjobs"),
    container,
    retryAfterSeconds: settings.integer("JOB_RETRY_AFTER_SECONDS", 5, { min: 1, max: 3_600 }),
    retentionMs: settings.integer("JOB_RETENTION_HOURS", 24, { min: 1, max: 720 }) * 3_600_000,
    // At most host.json's maxDequeueCount (5): each run after a dead worker is another delivery of the
    // same message, and after that many the host hands it to the poison queue, which ends the job.
    maxAttempts: settings.integer("JOB_MAX_ATTEMPTS", 3, { min: 1, max: 5 }),
    timeoutMs: settings.integer("JOB_TIMEOUT_MS", 600_000, { min: 1_000, max: MAX_JOB_TIMEOUT_MS }),
    // At least 10 s: renewed every 2 s, a lease outlives one renewal that takes the whole 5 s a storage
    // call may take, so a slow write never lets a second worker take a live job.
    leaseMs: settings.integer("JOB_LEASE_MS", 30_000, { min: 10_000, max: 600_000 }),
    sweepSchedule: readSchedule(settings),
  };
}

/** Six fields, seconds first, as the Functions host's timer trigger reads them; the host checks the rest. */
const NCRONTAB = /^\S+( \S+){5}$/;

function readSchedule(settings: SettingsReader): string {
  const schedule = settings.string("JOB_SWEEP_SCHEDULE", { required: false }) ?? "0 */5 * * * *";
  if (!NCRONTAB.test(schedule)) settings.problem("JOB_SWEEP_SCHEDULE must be an NCRONTAB expression of six fields, seconds first (e.g. 0 */5 * * * *)");
  return schedule;
}
