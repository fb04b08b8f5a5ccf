import { app, type InvocationContext, type TimerHandler } from "@azure/functions";
import { safeText } from "../lib/safe-text.js";
import { getRuntime, type Runtime } from "../runtime.js";

/** A queued job not taken for this long has lost its message: it is sent again (a duplicate is harmless). */
const QUEUED_GRACE_MS = 10 * 60_000;

/**
 * The jobs' sweeper, on a timer (JOB_SWEEP_SCHEDULE): the one place that makes "kept for N hours" and
 * "every job ends" hold whatever else failed. It deletes expired jobs (rows and blobs) and expired
 * Idempotency-Keys with their answers, and sends the message again for jobs no worker will finish
 * otherwise (a dead worker's, once its lease ran out a lease ago; a queued one whose message was lost):
 * the next worker runs them, or ends them with `job_abandoned` once their runs are used up.
 */
export function chatJobSweeper(runtime: Runtime): TimerHandler {
  return async (_timer: unknown, context: InvocationContext) => {
    const signal = AbortSignal.timeout(60_000);
    const { store, queue } = runtime.jobs;
    const { deleted, stale } = await store.sweep(QUEUED_GRACE_MS, signal);
    for (const message of stale) await queue.send(message);
    const keys = await runtime.idempotency.purgeExpired(signal).catch((error: unknown) => {
      context.warn(`Expired Idempotency-Keys could not be deleted: ${safeText(error instanceof Error ? error.message : "unknown error")}`);
      return 0;
    });
    if (deleted + stale.length + keys > 0)
      context.log(`Sweep: ${deleted} expired jobs deleted, ${stale.length} stranded jobs sent again, ${keys} expired keys deleted.`);
  };
}

const runtime = getRuntime();
app.timer("chatJobSweeper", { schedule: runtime.config.jobs.sweepSchedule, handler: chatJobSweeper(runtime) });
