import type { JobResult, JobRun } from "../jobs/job-types.js";
import { HttpProblem, problemBody } from "../lib/problem.js";
import { toProblem } from "../lib/to-problem.js";
import type { ModelMeter } from "../quotas/meter.js";
import { collectChat, openChat } from "./engine.js";
import { type ChatRuntime, prepareChat } from "./prepare.js";

export interface JobChat {
  runtime: ChatRuntime;
  /** The caller's quotas for this run, when they are on. */
  meter: ModelMeter | undefined;
  /** When the run must be over (epoch ms): every model call and tool of it. */
  deadlineAt: number;
  /** Aborted when the job is cancelled or its worker loses the job: the model call under it is aborted too. */
  signal: AbortSignal;
  warn: (message: string) => void;
}

/**
 * Runs a queued job with the chat engine, as `/api/chat` would answer its body: the answer (200, with
 * `x-model-deployment`) or the problem (its own status, problem+json naming the submitting request).
 * The model is asked for streams, so a long answer is bounded by the silence between its chunks and
 * by the job's deadline, not by one attempt's timeout.
 */
export async function runJobChat(run: JobRun, job: JobChat): Promise<{ status: "succeeded" | "failed"; result: JobResult; problem?: HttpProblem }> {
  try {
    const prepared = await prepareChat(JSON.parse(run.request) as unknown, job.runtime, { meter: job.meter, callerId: run.callerId });
    const chat = await openChat(prepared, {
      models: job.runtime.models,
      allowFallback: run.allowFallback,
      stream: true,
      deadlineAt: job.deadlineAt,
      callBudgetMs: Math.max(0, job.deadlineAt - Date.now()),
      signal: job.signal,
      warn: job.warn,
    });
    const answer = await collectChat(chat.parts);
    const headers = { "content-type": "application/json", "x-model-deployment": chat.alias };
    return { status: "succeeded", result: { status: 200, headers, body: JSON.stringify(answer) } };
  } catch (error) {
    const problem = toProblem(error, { route: "app" });
    return { status: "failed", result: problemResult(problem, run.requestId), problem };
  }
}

/** A problem as a job's result: the status, its headers and its problem+json body. */
export function problemResult(problem: HttpProblem, requestId: string): JobResult {
  return {
    status: problem.status,
    headers: { "content-type": "application/problem+json", ...problem.headers },
    body: JSON.stringify(problemBody(problem, requestId)),
  };
}

/** The end of a job whose runs kept being cut off. */
export const abandoned = () =>
  new HttpProblem({
    status: 500,
    code: "job_abandoned",
    title: "Internal Server Error",
    detail: "The job's runs were cut off before it finished, as often as a job may run; submit it again.",
  });
