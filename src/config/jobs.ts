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
 * `JOB_TIMEOUT_MS` (10 minutes) and `JOB_LEASE_MS` (30 s).
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
    maxAttempts: settings.integer("JOB_MAX_ATTEMPTS", 3, { min: 1, max: 10 }),
    timeoutMs: settings.integer("JOB_TIMEOUT_MS", 600_000, { min: 1_000, max: MAX_JOB_TIMEOUT_MS }),
    leaseMs: settings.integer("JOB_LEASE_MS", 30_000, { min: 3_000, max: 600_000 }),
  };
}
