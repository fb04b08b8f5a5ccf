import { app, type HttpHandler, type HttpRequest } from "@azure/functions";
import { prepareChat } from "../chat/prepare.js";
import { fallbackAllowed } from "../http/fallback.js";
import { ALL_METHODS, type AuthenticatedContext, callerHandler } from "../http/handler.js";
import { idempotencyKey, idempotent } from "../http/idempotency.js";
import { jobLocation, jobPending, jobStorage } from "../http/job-answers.js";
import { readJsonBody } from "../http/read-json-body.js";
import { HttpProblem } from "../lib/problem.js";
import { reservationText } from "../quotas/prepaid-meter.js";
import { getRuntime, type Runtime } from "../runtime.js";

/**
 * `POST /api/chat/jobs`: the `/api/chat` body, checked and admitted as there (a bad body is a 400, a
 * caller over quota a 429, before anything is queued), then queued for the job worker. Answers 202
 * with the job's `Location` and `Retry-After`, the asynchronous request-reply pattern Logic Apps
 * follows by itself. With `Idempotency-Key`, a retry gets the same 202 (the same job).
 */
export function chatJobsHandler(runtime: Runtime): HttpHandler {
  return callerHandler(
    runtime,
    async (request, context) => {
      const key = idempotencyKey(request);
      const body = await readJsonBody(request, runtime.config.chat.maxBodyBytes);
      const submit = () => submitJob(request, body, context);
      const { caller, requestId } = context;
      return idempotent({ store: runtime.idempotency, callerId: caller.id, key, route: "chat/jobs", body, errors: "problem", requestId }, submit);
    },
    { methods: ["POST"] },
  );

  async function submitJob(request: HttpRequest, body: unknown, { caller, meter, requestId, invocation }: AuthenticatedContext<Runtime>) {
    const prepared = await prepareChat(body, runtime, { meter, callerId: caller.id });
    if (prepared.request.stream) {
      throw new HttpProblem({
        status: 400,
        code: "invalid_request",
        detail: "A job answers with JSON when it is done; POST to /api/chat/stream for a stream.",
        extensions: { param: "stream", rule: "route" },
      });
    }
    // The first model call's tokens are reserved now, so a caller over quota hears it before anything
    // is queued; the worker's first call uses this reservation instead of being admitted again.
    const reservation = meter ? await meter.reserve(prepared.port.alias, prepared.body) : undefined;
    const { store, queue } = runtime.jobs;
    let job: { id: string; created: number } | undefined;
    try {
      job = await jobStorage(
        store.create({
          callerId: caller.id,
          ...(caller.keyName !== undefined ? { keyName: caller.keyName } : {}),
          request: JSON.stringify(body),
          allowFallback: fallbackAllowed(request),
          requestId,
          ...(reservation ? { reservation: reservationText(reservation) } : {}),
        }),
      );
      await jobStorage(queue.send({ callerId: caller.id, id: job.id }));
    } catch (error) {
      // Not queued, as far as this request can tell: a message that did arrive (its answer lost) finds the
      // job cancelled and does nothing. The tokens reserved for it go back.
      if (job) await store.cancel(caller.id, job.id).catch(() => undefined);
      if (reservation && meter) meter.ticketFor(reservation).settle({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 }, 0);
      throw error;
    }
    invocation.log(`Job ${job.id} queued.`);
    return jobPending(
      { id: job.id, status: "queued", created: job.created },
      jobLocation(runtime.config.publicHost, job.id),
      runtime.config.jobs.retryAfterSeconds,
    );
  }
}

// Registered for every method so that a wrong one gets our 405 problem, not the host's bare 404.
app.http("chatJobs", { route: "chat/jobs", methods: [...ALL_METHODS], authLevel: "anonymous", handler: chatJobsHandler(getRuntime()) });
