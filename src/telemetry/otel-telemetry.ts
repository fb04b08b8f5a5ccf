import { createHash } from "node:crypto";
import type { Attributes, Context, Counter, Histogram, Span, Tracer } from "@opentelemetry/api";
import type { ChatCompletion, ChatCompletionChunk, WireUsage } from "../lib/wire.js";
import type { AttemptInfo, AttemptSpan, JobInfo, ProblemCategory, RequestInfo, RequestSpan, Telemetry, ToolSpan } from "./telemetry.js";
import { parseTraceParent } from "./trace-parent.js";

type Api = typeof import("@opentelemetry/api");

/** OpenTelemetry's names (gen_ai.provider.name) for the two model APIs. */
const PROVIDER = { "model-inference": "azure.ai.inference", "openai-v1": "azure.ai.openai" } as const;
/** Application Insights keeps at most 8,192 characters of a property. */
const MAX_CONTENT_CHARS = 8_192;

/** Who called, shared by every span of a request; the holder is in the context, the id set once known. */
interface CallerHolder {
  id?: string;
}

/**
 * Telemetry on OpenTelemetry, following its GenAI semantic conventions: a server span per request, a
 * `chat {model}` client span per upstream attempt, an `execute_tool {name}` span per server tool call,
 * and the `gen_ai.client.*` metrics. Exported to Application Insights by the Azure Monitor
 * distribution that `applicationinsights` v3 sets up (see start-telemetry.ts).
 */
export class OtelTelemetry implements Telemetry {
  readonly #api: Api;
  readonly #tracer: Tracer;
  readonly #captureContent: boolean;
  readonly #callerKey: symbol;
  readonly #tokenUsage: Histogram;
  readonly #duration: Histogram;
  readonly #timeToFirstChunk: Histogram;
  readonly #problems: Counter;
  readonly #flush: () => Promise<void>;

  constructor(api: Api, options: { captureContent: boolean; flush: () => Promise<void> }) {
    this.#api = api;
    this.#captureContent = options.captureContent;
    this.#flush = options.flush;
    this.#tracer = api.trace.getTracer("mistral-functions");
    this.#callerKey = api.createContextKey("mistral-functions.caller") as symbol;
    const meter = api.metrics.getMeter("mistral-functions");
    this.#tokenUsage = meter.createHistogram("gen_ai.client.token.usage", { unit: "{token}", description: "Tokens used per model call, by type" });
    this.#duration = meter.createHistogram("gen_ai.client.operation.duration", { unit: "s", description: "Duration of model calls" });
    this.#timeToFirstChunk = meter.createHistogram("gen_ai.client.operation.time_to_first_chunk", { unit: "s", description: "Time to a stream's first chunk" });
    this.#problems = meter.createCounter("app.request.problems", { description: "Requests throttled, filtered or failed, by reason" });
  }

  request(info: RequestInfo): RequestSpan {
    const api = this.#api;
    const parent = remoteParent(api, info.traceParent);
    const holder: CallerHolder = {};
    const span = this.#tracer.startSpan(
      `${info.method} ${info.route ?? info.path}`,
      {
        kind: api.SpanKind.SERVER,
        attributes: {
          "http.request.method": info.method,
          "url.path": info.path,
          "http.route": info.route ?? info.path,
          ...(info.clientRequestId ? { "app.client_request_id": info.clientRequestId } : {}),
          ...(info.workflow?.runId ? { "app.workflow.run_id": info.workflow.runId } : {}),
          ...(info.workflow?.name ? { "app.workflow.name": info.workflow.name } : {}),
          ...(info.workflow?.clientTrackingId ? { "app.workflow.client_tracking_id": info.workflow.clientTrackingId } : {}),
        },
      },
      parent,
    );
    const context = api.trace.setSpan(parent, span).setValue(this.#callerKey, holder);
    return new OtelRequestSpan(api, span, context, holder, (category, code) => this.#count(category, code, holder.id));
  }

  job(info: JobInfo): RequestSpan {
    const api = this.#api;
    // A parent in the submitting request's trace (its id is the trace id): the run is part of that
    // operation. The parent span id is the job's own, so each job's runs hang together.
    const parentSpanId = createHash("sha256").update(info.id).digest("hex").slice(0, 16);
    const parent = remoteParent(api, /^[0-9a-f]{32}$/.test(info.requestId) ? `00-${info.requestId}-${parentSpanId}-01` : undefined);
    const holder: CallerHolder = {};
    const span = this.#tracer.startSpan(
      `process ${info.queue}`,
      {
        kind: api.SpanKind.CONSUMER,
        attributes: {
          // Application Insights names a request it gets from a consumer span only by this attribute.
          "ai.operation.name": `process ${info.queue}`,
          "messaging.operation.type": "process",
          "messaging.destination.name": info.queue,
          "app.job.id": info.id,
          "app.job.attempt": info.attempt,
          "app.job.request_id": info.requestId,
        },
      },
      parent,
    );
    const context = api.trace.setSpan(parent, span).setValue(this.#callerKey, holder);
    return new OtelRequestSpan(api, span, context, holder, (category, code) => this.#count(category, code, holder.id), "app.job.status_code");
  }

  within<T>(span: RequestSpan, fn: () => Promise<T>): Promise<T> {
    return span instanceof OtelRequestSpan ? this.#api.context.with(span.context, fn) : fn();
  }

  chatAttempt(info: AttemptInfo): AttemptSpan {
    const api = this.#api;
    const active = api.context.active();
    const caller = (active.getValue(this.#callerKey) as CallerHolder | undefined)?.id;
    const body = info.body;
    const common: Attributes = {
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": PROVIDER[info.api],
      "app.model.api": info.api,
      "gen_ai.request.model": info.model,
      "server.address": info.serverAddress,
      "server.port": info.serverPort,
      "app.deployment.alias": info.alias,
      ...(caller ? { "app.caller.id": caller } : {}),
    };
    const span = this.#tracer.startSpan(
      `chat ${info.model}`,
      {
        kind: api.SpanKind.CLIENT,
        attributes: {
          ...common,
          // An HTTP call to Application Insights: its result code is the model's status.
          "http.request.method": "POST",
          "gen_ai.request.stream": info.stream,
          ...optional("gen_ai.request.max_tokens", body.max_tokens),
          ...optional("gen_ai.request.temperature", body.temperature),
          ...optional("gen_ai.request.top_p", body.top_p),
          ...optional("gen_ai.request.presence_penalty", body.presence_penalty),
          ...optional("gen_ai.request.frequency_penalty", body.frequency_penalty),
          ...optional("gen_ai.request.seed", body.seed),
          ...(body.stop !== undefined && body.stop !== null ? { "gen_ai.request.stop_sequences": Array.isArray(body.stop) ? body.stop : [body.stop] } : {}),
          ...(this.#captureContent ? { "gen_ai.input.messages": capped(JSON.stringify(body.messages)) } : {}),
        },
      },
      active,
    );
    return new OtelAttemptSpan(span, common, this.#captureContent, {
      duration: this.#duration,
      tokenUsage: this.#tokenUsage,
      timeToFirstChunk: this.#timeToFirstChunk,
      errorStatus: api.SpanStatusCode.ERROR,
    });
  }

  tool(name: string, callId: string, args: string): ToolSpan {
    const api = this.#api;
    const span = this.#tracer.startSpan(`execute_tool ${name}`, {
      kind: api.SpanKind.INTERNAL,
      attributes: {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": name,
        "gen_ai.tool.call.id": callId,
        "gen_ai.tool.type": "function",
        ...(this.#captureContent ? { "gen_ai.tool.call.arguments": capped(args) } : {}),
      },
    });
    const capture = this.#captureContent;
    return {
      end(outcome) {
        if ("error" in outcome) {
          span.setAttribute("error.type", "tool_error");
          span.setStatus({ code: api.SpanStatusCode.ERROR });
        }
        if (capture) span.setAttribute("gen_ai.tool.call.result", capped("error" in outcome ? outcome.error : outcome.result()));
        span.end();
      },
    };
  }

  event(name: string, attributes: Record<string, string | number | boolean>): void {
    this.#api.trace.getActiveSpan()?.addEvent(name, attributes);
  }

  problem(category: ProblemCategory, code: string): void {
    this.#count(category, code, (this.#api.context.active().getValue(this.#callerKey) as CallerHolder | undefined)?.id);
  }

  #count(category: ProblemCategory, code: string, caller: string | undefined): void {
    this.#problems.add(1, { "app.problem.category": category, "app.problem.reason": code, ...(caller ? { "app.caller.id": caller } : {}) });
  }

  flush(): Promise<void> {
    return this.#flush();
  }
}

class OtelRequestSpan implements RequestSpan {
  constructor(
    private readonly api: Api,
    private readonly span: Span,
    readonly context: Context,
    private readonly holder: CallerHolder,
    readonly problem: (category: ProblemCategory, code: string) => void,
    /** Where the answer's status goes: a job's run is no HTTP request, so not `http.response.status_code`. */
    private readonly statusAttribute = "http.response.status_code",
  ) {}

  setCaller(id: string): void {
    this.holder.id = id;
    this.span.setAttribute("app.caller.id", id);
  }

  answered(status: number, problemCode?: string): void {
    this.span.setAttribute(this.statusAttribute, status);
    if (problemCode) this.span.setAttribute("error.type", problemCode);
    if (status >= 500) this.span.setStatus({ code: this.api.SpanStatusCode.ERROR });
  }

  bind<T>(source: AsyncIterable<T>): AsyncIterable<T> {
    const { api, context } = this;
    const iterator = source[Symbol.asyncIterator]();
    return {
      [Symbol.asyncIterator]: () => ({
        next: () => api.context.with(context, () => iterator.next()),
        return: (value?: unknown) => api.context.with(context, async () => (await iterator.return?.(value as T)) ?? { done: true as const, value: value as T }),
      }),
    };
  }

  end(): void {
    this.span.end();
  }
}

interface AttemptInstruments {
  duration: Histogram;
  tokenUsage: Histogram;
  timeToFirstChunk: Histogram;
  errorStatus: number;
}

class OtelAttemptSpan implements AttemptSpan {
  readonly #started = performance.now();
  #firstChunkAt: number | undefined;
  #id: string | undefined;
  #model: string | undefined;
  readonly #finishReasons: string[] = [];
  #usage: WireUsage | undefined;
  #errorType: string | undefined;
  #text = "";
  #ended = false;
  /** The model's HTTP status: what Application Insights shows as the dependency's result code. */
  #status: number | undefined;

  constructor(
    private readonly span: Span,
    private readonly common: Attributes,
    private readonly captureContent: boolean,
    private readonly instruments: AttemptInstruments,
  ) {}

  completed(completion: ChatCompletion): void {
    this.#status = 200;
    this.#id = completion.id;
    this.#model = completion.model;
    this.#usage = completion.usage;
    for (const choice of completion.choices) if (choice.finish_reason) this.#finishReasons.push(choice.finish_reason);
    if (this.captureContent) this.#text = JSON.stringify(completion.choices.map((c) => ({ ...c.message, finish_reason: c.finish_reason })));
  }

  chunk(chunk: ChatCompletionChunk): void {
    if (this.#firstChunkAt === undefined) {
      this.#status = 200;
      this.#firstChunkAt = performance.now();
      this.#id = chunk.id;
      this.#model = chunk.model;
    }
    if (chunk.usage) this.#usage = chunk.usage;
    for (const choice of chunk.choices) {
      if (choice.finish_reason) this.#finishReasons.push(choice.finish_reason);
      if (this.captureContent && typeof choice.delta?.content === "string") this.#text += choice.delta.content;
    }
  }

  failed(errorType: string, status?: number): void {
    this.#errorType = errorType;
    if (status !== undefined) this.#status = status;
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    const span = this.span;
    const seconds = (performance.now() - this.#started) / 1000;
    const labels: Attributes = { ...this.common, ...(this.#model ? { "gen_ai.response.model": this.#model } : {}) };
    if (this.#status !== undefined) span.setAttribute("http.response.status_code", this.#status);
    if (this.#id) span.setAttribute("gen_ai.response.id", this.#id);
    if (this.#model) span.setAttribute("gen_ai.response.model", this.#model);
    if (this.#finishReasons.length > 0) span.setAttribute("gen_ai.response.finish_reasons", this.#finishReasons);
    if (this.#usage) {
      span.setAttribute("gen_ai.usage.input_tokens", this.#usage.prompt_tokens);
      span.setAttribute("gen_ai.usage.output_tokens", this.#usage.completion_tokens);
      this.instruments.tokenUsage.record(this.#usage.prompt_tokens, { ...labels, "gen_ai.token.type": "input" });
      this.instruments.tokenUsage.record(this.#usage.completion_tokens, { ...labels, "gen_ai.token.type": "output" });
    }
    if (this.#firstChunkAt !== undefined) {
      const firstChunkSeconds = (this.#firstChunkAt - this.#started) / 1000;
      span.setAttribute("gen_ai.response.time_to_first_chunk", firstChunkSeconds);
      this.instruments.timeToFirstChunk.record(firstChunkSeconds, labels);
    }
    if (this.captureContent && this.#text) span.setAttribute("gen_ai.output.messages", capped(this.#text));
    if (this.#errorType) {
      span.setAttribute("error.type", this.#errorType);
      span.setStatus({ code: this.instruments.errorStatus });
    }
    this.instruments.duration.record(seconds, { ...labels, ...(this.#errorType ? { "error.type": this.#errorType } : {}) });
    span.end();
  }
}

/** The host's span for the invocation, as the parent of ours; a new trace without one. */
function remoteParent(api: Api, traceParent: string | undefined): Context {
  const parent = parseTraceParent(traceParent);
  if (!parent) return api.ROOT_CONTEXT;
  return api.trace.setSpanContext(api.ROOT_CONTEXT, { traceId: parent.traceId, spanId: parent.spanId, traceFlags: parent.flags, isRemote: true });
}

function optional(name: string, value: unknown): Attributes {
  return typeof value === "number" ? { [name]: value } : {};
}

function capped(text: string): string {
  return text.length > MAX_CONTENT_CHARS ? `${text.slice(0, MAX_CONTENT_CHARS - 1)}…` : text;
}
