import type { JobRun } from "../jobs/job-types.js";
import { HttpProblem } from "../lib/problem.js";
import { toProblem } from "../lib/to-problem.js";
import type { ModelMeter } from "../quotas/meter.js";
import { collectChat, openChat } from "./engine.js";
import type { ChatResponse } from "./from-wire.js";
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

/** What a job's run came to: the answer `/api/chat` would give (and which deployment gave it), or its problem. */
export type JobChatOutcome = { answer: ChatResponse; alias: string } | { problem: HttpProblem };

/**
 * Runs a queued job's `/api/chat` body with the chat engine. The model is asked for streams, so a long
 * answer is bounded by the silence between its chunks and by the job's deadline, not by one attempt's
 * timeout. Every failure comes back as the problem `/api/chat` would answer.
 */
export async function runJobChat(run: JobRun, job: JobChat): Promise<JobChatOutcome> {
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
    return { answer: await collectChat(chat.parts), alias: chat.alias };
  } catch (error) {
    return { problem: toProblem(error, { route: "app" }) };
  }
}

/** The end of a job whose runs kept being cut off. */
export const abandoned = () =>
  new HttpProblem({
    status: 500,
    code: "job_abandoned",
    title: "Internal Server Error",
    detail: "The job's runs were cut off before it finished, as often as a job may run; submit it again.",
  });
