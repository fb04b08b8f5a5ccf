import type { HttpResponseInit } from "@azure/functions";
import type { JobChatOutcome } from "../chat/run-job.js";
import type { JobResult, JobView } from "../jobs/job-types.js";
import { HttpProblem } from "../lib/problem.js";
import { problemResponse } from "./problem-response.js";

/**
 * The job's own URL, absolute: what `Location` says and polls go to. Built on the app's public address
 * (PUBLIC_BASE_URL or WEBSITE_HOSTNAME), never on the request's `Host`, which a caller writes (and a
 * replayed Idempotency-Key answer would repeat).
 */
export function jobLocation(publicHost: { host: string; scheme: string; basePath: string }, id: string): string {
  const base = publicHost.basePath === "/" ? "" : publicHost.basePath;
  return `${publicHost.scheme}://${publicHost.host}${base}/chat/jobs/${encodeURIComponent(id)}`;
}

/** 202 Accepted: the job is queued or running; poll `Location` after `Retry-After`. */
export function jobPending(view: Pick<JobView, "id" | "status"> & { created?: number }, location: string, retryAfterSeconds: number): HttpResponseInit {
  return {
    status: 202,
    headers: { location, "retry-after": String(retryAfterSeconds) },
    jsonBody: view.created === undefined ? { id: view.id, status: view.status } : { id: view.id, status: view.status, created: view.created },
  };
}

/** A finished job: exactly what `/api/chat` would have answered (its answer, or its problem). */
export function jobOutcome(view: JobView): HttpResponseInit {
  const result = view.result;
  if (result === undefined) throw new Error(`Job ${view.id} is ${view.status} without a result.`);
  return { status: result.status, headers: result.headers, body: result.body };
}

/** A run's outcome as the job keeps it: exactly the answer, or the problem, `/api/chat` would have answered. */
export function jobResult(outcome: JobChatOutcome, requestId: string): { status: "succeeded" | "failed"; result: JobResult } {
  if ("answer" in outcome) {
    const headers = { "content-type": "application/json", "x-model-deployment": outcome.alias };
    return { status: "succeeded", result: { status: 200, headers, body: JSON.stringify(outcome.answer) } };
  }
  return { status: "failed", result: problemResult(outcome.problem, requestId) };
}

/** A problem as a job's result: its problem+json answer, kept as text. */
export function problemResult(problem: HttpProblem, requestId: string): JobResult {
  const response = problemResponse(problem, requestId);
  return { status: response.status as number, headers: response.headers as Record<string, string>, body: JSON.stringify(response.jsonBody) };
}

export const jobNotFound = () =>
  new HttpProblem({ status: 404, code: "job_not_found", title: "Not Found", detail: "This caller has no job with this id (or it expired)." });

export const jobCancelled = () =>
  new HttpProblem({ status: 409, code: "job_cancelled", title: "Conflict", detail: "The job was cancelled before it finished; it has no result." });

export const jobFinished = () =>
  new HttpProblem({
    status: 409,
    code: "job_finished",
    title: "Conflict",
    detail: "The job has finished and cannot be cancelled; its result stays readable until it expires.",
  });

/** Storage for jobs failed: nothing was queued or read, and it is not the caller's fault. */
export function jobsUnavailable(cause: unknown): HttpProblem {
  return new HttpProblem({
    status: 503,
    code: "jobs_unavailable",
    title: "Service Unavailable",
    detail: "Jobs cannot be reached right now; try again shortly.",
    headers: { "retry-after": "5" },
    cause,
  });
}

/** Job storage calls: a failure becomes `jobs_unavailable`; the app's own problems pass as they are. */
export async function jobStorage<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    throw error instanceof HttpProblem ? error : jobsUnavailable(error);
  }
}
