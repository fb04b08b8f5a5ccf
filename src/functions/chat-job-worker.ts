import { app, type InvocationContext, type StorageQueueHandler } from "@azure/functions";
import { abandoned, problemResult, runJobChat } from "../chat/run-job.js";
import { jobMessageOf } from "../jobs/job-queue.js";
import { LeaseKeeper } from "../jobs/lease-keeper.js";
import { callerMeterFor } from "../quotas/caller-meter.js";
import { PrepaidMeter, reservationOf } from "../quotas/prepaid-meter.js";
import { getRuntime, type Runtime } from "../runtime.js";
import { problemCategory, telemetry } from "../telemetry/telemetry.js";

/**
 * The job worker, triggered by the jobs' queue: takes the job (an ETag-guarded move to running), runs
 * it with the chat engine while renewing its lease, and writes its outcome, unless it was cancelled or
 * taken over meanwhile. A job another worker still runs is looked at again when that lease would run
 * out; a job whose runs kept dying (JOB_MAX_ATTEMPTS) ends with `job_abandoned`. Throwing leaves the
 * message to the queue's own retries (storage failing), and after those to the poison handler below.
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
    const keeper = new LeaseKeeper(store, lease, runtime.config.jobs.leaseMs, warn);
    const caller = callerMeterFor(runtime.quotas, runtime.config, { id: run.callerId, ...(run.keyName ? { keyName: run.keyName } : {}) }, warn);
    const span = telemetry().job({ queue: runtime.config.jobs.queue, id: run.id, attempt: run.attempt, requestId: run.requestId });
    span.setCaller(run.callerId);
    const outcome = await telemetry().within(span, () =>
      runJobChat(run, {
        runtime,
        meter: caller ? new PrepaidMeter(caller, reservationOf(run.reservation), run.attempt > 1) : undefined,
        deadlineAt: Date.now() + runtime.config.jobs.timeoutMs,
        signal: keeper.signal,
        warn,
      }),
    );
    span.answered(outcome.result.status, outcome.problem?.code);
    const category = outcome.problem ? problemCategory(outcome.problem.status, outcome.problem.code) : undefined;
    if (category && outcome.problem) span.problem(category, outcome.problem.code);
    span.end();
    const state = await keeper.stop();
    if (state !== "held") {
      context.log(`Job ${run.id}: ${state === "cancelled" ? "cancelled while it ran" : "taken over by another worker"}; its outcome is not written.`);
      return;
    }
    if (!(await store.finish(lease, outcome.status, outcome.result))) context.log(`Job ${run.id}: cancelled as it ended; its outcome is not written.`);
  };
}

/**
 * Messages the jobs' queue gave up on (the host moved them to `<queue>-poison` after its retries):
 * the job must still end, so it is marked `job_abandoned`, unless it is final already or a live
 * worker runs it (then it is looked at again when that worker's lease would run out).
 */
export function chatJobPoison(runtime: Runtime): StorageQueueHandler {
  return async (item: unknown, context: InvocationContext) => {
    const message = jobMessageOf(item);
    if (!message) return;
    const outcome = await runtime.jobs.store.abandon(message.callerId, message.id, (requestId) => problemResult(abandoned(), requestId));
    if (outcome === "busy") await runtime.jobs.queue.send(message, runtime.config.jobs.leaseMs);
    if (outcome === "abandoned") context.warn(`Job ${message.id}: its message was given up on; the job is abandoned.`);
  };
}

const runtime = getRuntime();
app.storageQueue("chatJobWorker", { queueName: runtime.config.jobs.queue, connection: "AzureWebJobsStorage", handler: chatJobWorker(runtime) });
app.storageQueue("chatJobPoison", { queueName: `${runtime.config.jobs.queue}-poison`, connection: "AzureWebJobsStorage", handler: chatJobPoison(runtime) });
