/** A job's life: queued → running → succeeded, failed or cancelled (the last three are final). */
export type JobStatus = "queued" | "running" | "succeeded" | "failed" | "cancelled";

export const FINAL: ReadonlySet<JobStatus> = new Set(["succeeded", "failed", "cancelled"]);

/** A job's outcome as its GET answers it: the status, headers and JSON text `/api/chat` would have answered. */
export interface JobResult {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** What a job is submitted with. */
export interface NewJob {
  callerId: string;
  /** The caller key's name, for its own quota limits. */
  keyName?: string;
  /** The `/api/chat` body, as JSON text. */
  request: string;
  allowFallback: boolean;
  /** The submitting request's id: a failed job's problem names it. */
  requestId: string;
  /** The quota reservation made at submission, opaque here (the worker's first model call uses it). */
  reservation?: string;
}

/** A job as its caller sees it. */
export interface JobView {
  id: string;
  status: JobStatus;
  /** Unix seconds, as the chat answer's `created`. */
  created: number;
  /** When it is final and not cancelled. */
  result?: JobResult;
}

/** A job a worker has taken to run: what it needs, and which run this is (1 for the first). */
export interface JobRun extends NewJob {
  id: string;
  attempt: number;
}

/**
 * A worker's hold on a job: the row's ETag as this worker last saw it, and, for a run, the run's own
 * token (written when it took the job), which tells "my write's answer was lost" from "someone else
 * wrote" when an ETag no longer matches.
 */
export interface JobLease {
  callerId: string;
  id: string;
  etag: string;
  runId?: string;
}

/** What a worker finds when it takes a job's message. */
export type JobClaim =
  /** The job is this worker's to run now. */
  | { kind: "run"; run: JobRun; lease: JobLease }
  /** Its runs kept dying: this worker is to end it with `job_abandoned` (`lease`: the row as found, to end it conditionally). */
  | { kind: "exhausted"; lease: JobLease; requestId: string }
  /** Another worker runs it and is alive: look again after `retryInMs`. */
  | { kind: "busy"; retryInMs: number }
  /** Nothing to do: the job is final, cancelled, expired or unknown. */
  | { kind: "gone" };

/** The queue message for a job: who it belongs to and its id, nothing more. */
export interface JobMessage {
  callerId: string;
  id: string;
}
