import { setTimeout as sleep } from "node:timers/promises";
import { app, type InvocationContext, type StorageQueueHandler } from "@azure/functions";
import { abandoned, runJobChat } from "../chat/run-job.js";
import { jobResult, problemResult } from "../http/job-answers.js";
import { logProblem } from "../http/log-problem.js";
import { jobMessageOf } from "../jobs/job-queue.js";
import type { TableJobStore } from "../jobs/job-store.js";
import type { JobLease, JobResult } from "../jobs/job-types.js";
import { LeaseKeeper } from "../jobs/lease-keeper.js";
import { safeText } from "../lib/safe-text.js";
import { callerMeterFor } from "../quotas/caller-meter.js";
import { PrepaidMeter, reservationOf } from "../quotas/prepaid-meter.js";
import { getRuntime, type Runtime } from "../runtime.js";
import { problemCategory, telemetry } from "../telemetry/telemetry.js";

/** Waits between the tries of writing a finished run's outcome: storage blinking must not cost a rerun. */
const FINISH_RETRY_MS = [1_000, 3_000];

/**
 * The job worker, triggered by the jobs' queue: takes the job (an ETag-guarded move to running), runs
 * it with the chat engine while renewing its lease, and writes its outcome, unless it was cancelled or
 * taken over meanwhile. A job another worker still runs is looked at again when that lease would run
 * out; a job whose runs kept dying (JOB_MAX_ATTEMPTS) ends with `job_abandoned`. Throwing leaves the
 * message to the queue's own retries (storage failing), and after those to `chat-job-poison.ts`.
 */
export function chatJobWorker(runtime: Runtime): StorageQueueHandler {
  return async (item: unknown, context: InvocationContext) => {
    const message = jobMessageOf(item);
    if (!message) {
      context.warn("A message on the jobs' queue that is not a job's was dropped.");
      return;
    }
    const { store, queue } = runtime.jobs;
    const claim = await store.claim(message.callerId, message.id);
    if (claim.kind === "gone") return;
    if (claim.kind === "busy") return queue.send(message, claim.retryInMs);
    if (claim.kind === "exhausted") {
      context.warn(`Job ${message.id}: its runs were cut off ${runtime.config.jobs.maxAttempts} times; it is abandoned.`);
      await store.finish(claim.lease, "failed", problemResult(abandoned(), claim.requestId));
      return;
    }
    const { run, lease } = claim;
    const warn = (line: string) => context.warn(`Job ${run.id}: ${line}`);
    context.log(`Job ${run.id}: run ${run.attempt} of at most ${runtime.config.jobs.maxAttempts}.`);
    const caller = callerMeterFor(runtime.quotas, runtime.config, { id: run.callerId, ...(run.keyName ? { keyName: run.keyName } : {}) }, warn);
    const span = telemetry().job({ queue: runtime.config.jobs.queue, id: run.id, attempt: run.attempt, requestId: run.requestId });
    span.setCaller(run.callerId);
    const keeper = new LeaseKeeper(store, lease, warn);
    let held: Awaited<ReturnType<LeaseKeeper["stop"]>>;
    let outcome: Awaited<ReturnType<typeof runJobChat>>;
    try {
      outcome = await telemetry().within(span, () =>
        runJobChat(run, {
          runtime,
          meter: caller ? new PrepaidMeter(caller, reservationOf(run.reservation), run.attempt > 1) : undefined,
          deadlineAt: Date.now() + runtime.config.jobs.timeoutMs,
          signal: keeper.signal,
          warn,
        }),
      );
    } finally {
      held = await keeper.stop();
    }
    const { status, result } = jobResult(outcome, run.requestId);
    span.answered(result.status, "problem" in outcome ? outcome.problem.code : undefined);
    if ("problem" in outcome) {
      const category = problemCategory(outcome.problem.status, outcome.problem.code);
      if (category) span.problem(category, outcome.problem.code);
      logProblem(outcome.problem, context, `Job ${run.id} failed`);
    }
    span.end();
    if (held !== "held") {
      context.log(`Job ${run.id}: ${held === "cancelled" ? "cancelled while it ran" : "taken over by another worker"}; its outcome is not written.`);
      return;
    }
    if (!(await finishRun(store, lease, status, result, warn))) context.log(`Job ${run.id}: cancelled as it ended; its outcome is not written.`);
  };
}

/**
 * Writes the outcome, trying again while storage fails: until the lease runs out no other worker takes
 * the job, and a rerun would generate the answer again. After the last try the error is thrown.
 */
async function finishRun(store: TableJobStore, lease: JobLease, status: "succeeded" | "failed", result: JobResult, warn: (line: string) => void) {
  for (let tries = 0; ; tries++) {
    try {
      return await store.finish(lease, status, result);
    } catch (error) {
      const wait = FINISH_RETRY_MS[tries];
      if (wait === undefined) throw error;
      warn(`its outcome could not be written (${safeText(error instanceof Error ? error.message : "unknown error")}); trying again.`);
      await sleep(wait);
    }
  }
}

const runtime = getRuntime();
app.storageQueue("chatJobWorker", { queueName: runtime.config.jobs.queue, connection: "AzureWebJobsStorage", handler: chatJobWorker(runtime) });
