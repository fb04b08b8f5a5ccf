import type { ChatCompletion, ChatCompletionChunk, ChatCompletionsBody } from "../lib/wire.js";

/** What the request span knows when it starts. */
export interface RequestInfo {
  method: string;
  /** The path, e.g. `/api/chat`. */
  path: string;
  /** The route's template when it has parameters (`/api/chat/jobs/{id}`): what requests are named and grouped by. */
  route?: string;
  /** The host's `traceparent` for this invocation: the request span is its child. */
  traceParent: string | undefined;
  /** The caller's own `x-request-id`, kept as an attribute to search by. */
  clientRequestId: string | undefined;
  /** A Logic Apps workflow's run, name and client tracking id, when it called: to find its requests by. */
  workflow?: { runId?: string; name?: string; clientTrackingId?: string };
}

/** What a queued job's run span knows when it starts. */
export interface JobInfo {
  /** The queue it came from. */
  queue: string;
  id: string;
  /** Which run of the job this is, 1 for the first. */
  attempt: number;
  /** The submitting request's id (its trace id): the run joins that operation, so the id a user quotes finds it. */
  requestId: string;
}

/** The server span of one invocation. */
export interface RequestSpan {
  /** Who called: every span and metric of the request is labelled with it. */
  setCaller(id: string): void;
  /** The answer's status, and the problem code when it is an error. */
  answered(status: number, problemCode?: string): void;
  /** Counts the request as throttled, filtered or failed, by reason (its problem code). */
  problem(category: ProblemCategory, code: string): void;
  /** Runs each step of `source` in this request's context, for stream bodies read after the handler returned. */
  bind<T>(source: AsyncIterable<T>): AsyncIterable<T>;
  end(): void;
}

/** What a model call is about, for its `chat {model}` span. */
export interface AttemptInfo {
  alias: string;
  /** The model API the deployment is reached through. */
  api: "model-inference" | "openai-v1";
  /** The model name sent upstream. */
  model: string;
  body: ChatCompletionsBody;
  stream: boolean;
  serverAddress: string;
  serverPort: number;
}

/** One upstream attempt. */
export interface AttemptSpan {
  /** A JSON answer arrived. */
  completed(completion: ChatCompletion): void;
  /** A stream chunk arrived (the first one sets the time to first chunk). */
  chunk(chunk: ChatCompletionChunk): void;
  /** The attempt failed; `errorType` is the error's code (e.g. `upstream_timeout`), `status` the model's answer when it gave one. */
  failed(errorType: string, status?: number): void;
  end(): void;
}

export interface ToolSpan {
  /** `result` is asked for only when content is captured. */
  end(outcome: { result: () => string } | { error: string }): void;
}

/** What makes a request count as throttled, filtered or failed, for the counts by reason. */
export type ProblemCategory = "throttled" | "filtered" | "failed";

/**
 * Telemetry as the rest of the app sees it: request, model attempt and tool spans, decisions as
 * events, and the counts of what went wrong. Off (the default), every method does nothing and nothing
 * is loaded; on, spans and metrics go to Application Insights (otel-telemetry.ts).
 */
export interface Telemetry {
  request(info: RequestInfo): RequestSpan;
  /** Runs `fn` inside `span`'s context, so spans started in it are its children. */
  within<T>(span: RequestSpan, fn: () => Promise<T>): Promise<T>;
  /** The span of one run of a queued job: as a request's, for the worker's invocation. */
  job(info: JobInfo): RequestSpan;
  chatAttempt(info: AttemptInfo): AttemptSpan;
  tool(name: string, callId: string, args: string): ToolSpan;
  /** A retry, fallback or breaker decision, as an event on the current span. */
  event(name: string, attributes: Record<string, string | number | boolean>): void;
  /** A stream that ended throttled, filtered or failed after it began, by reason, for the current request. */
  problem(category: ProblemCategory, code: string): void;
  /** Sends what is buffered; for the host's shutdown. */
  flush(): Promise<void>;
}

const NOOP_REQUEST: RequestSpan = { setCaller() {}, answered() {}, problem() {}, bind: (source) => source, end() {} };
const NOOP_ATTEMPT: AttemptSpan = { completed() {}, chunk() {}, failed() {}, end() {} };
const NOOP_TOOL: ToolSpan = { end() {} };

export const NO_TELEMETRY: Telemetry = {
  request: () => NOOP_REQUEST,
  within: (_span, fn) => fn(),
  job: () => NOOP_REQUEST,
  chatAttempt: () => NOOP_ATTEMPT,
  tool: () => NOOP_TOOL,
  event() {},
  problem() {},
  flush: () => Promise.resolve(),
};

let current: Telemetry = NO_TELEMETRY;

/** The process's telemetry: nothing until start-up turned it on. */
export function telemetry(): Telemetry {
  return current;
}

export function setTelemetry(value: Telemetry): void {
  current = value;
}

/** Which problems count as what: throttling, content filtering, and failures of ours or upstream. */
export function problemCategory(status: number, code: string): ProblemCategory | undefined {
  if (status === 429) return "throttled";
  if (code === "content_filter" || code === "content_filtered") return "filtered";
  if (status >= 500) return "failed";
  return undefined;
}
