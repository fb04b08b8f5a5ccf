import { app, type HttpHandler } from "@azure/functions";
import { ALL_METHODS, callerHandler } from "../http/handler.js";
import { jobCancelled, jobFinished, jobLocation, jobNotFound, jobOutcome, jobPending, jobStorage } from "../http/job-answers.js";
import { getRuntime, type Runtime } from "../runtime.js";

/** A job id as this app makes them (a UUID); anything else is no job, answered as one that does not exist. */
const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * `GET /api/chat/jobs/{id}`: 202 with `Location` and `Retry-After` while the job is queued or running;
 * then exactly what `/api/chat` would have answered (200 with the answer, or the problem with its own
 * status); 409 `job_cancelled` for a cancelled job. `DELETE` cancels a queued or running job (204).
 * A job that does not exist, expired or is another caller's is the same 404.
 */
export function chatJobHandler(runtime: Runtime): HttpHandler {
  return callerHandler(
    runtime,
    async (request, { caller }) => {
      // Ids are made lower-case; one a client upper-cased is still the same job.
      const id = (request.params.id ?? "").toLowerCase();
      if (!JOB_ID.test(id)) throw jobNotFound();
      const { store } = runtime.jobs;
      if (request.method === "DELETE") {
        const outcome = await jobStorage(store.cancel(caller.id, id));
        if (outcome === "not_found") throw jobNotFound();
        if (outcome === "finished") throw jobFinished();
        return { status: 204 };
      }
      const view = await jobStorage(store.read(caller.id, id));
      if (view === undefined) throw jobNotFound();
      if (view.status === "queued" || view.status === "running")
        return jobPending({ id, status: view.status }, jobLocation(runtime.config.publicHost, id), runtime.config.jobs.retryAfterSeconds);
      if (view.status === "cancelled") throw jobCancelled();
      return jobOutcome(view);
    },
    { methods: ["GET", "DELETE"], route: "/api/chat/jobs/{id}" },
  );
}

app.http("chatJob", { route: "chat/jobs/{id}", methods: [...ALL_METHODS], authLevel: "anonymous", handler: chatJobHandler(getRuntime()) });
