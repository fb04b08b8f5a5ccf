import { app, type InvocationContext, type StorageQueueHandler } from "@azure/functions";
import { abandoned } from "../chat/run-job.js";
import { problemResult } from "../http/job-answers.js";
import { jobMessageOf } from "../jobs/job-queue.js";
import { getRuntime, type Runtime } from "../runtime.js";

/**
 * Messages the jobs' queue gave up on (the host moves them to `<queue>-poison` after `maxDequeueCount`
 * failed tries): the job must still end, so it is marked `job_abandoned`, unless it is final already or
 * a live worker runs it (then it is looked at again when that worker's lease would run out). If storage
 * is down here too, the message fails and is tried again; the sweeper ends what is left.
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
app.storageQueue("chatJobPoison", { queueName: `${runtime.config.jobs.queue}-poison`, connection: "AzureWebJobsStorage", handler: chatJobPoison(runtime) });
