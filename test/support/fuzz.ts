import { request as httpRequest } from "node:http";
import fc from "fast-check";

/**
 * Machinery of the HTTP fuzz test (test/integration/fuzz.test.ts): values too big to print or to
 * build with JSON.stringify, sending a request and reading its answer to the end, what every answer
 * must look like, and a probe that measures how long the host takes to answer GET /api/health.
 */

// ---------------------------------------------------------------------------------------------------
// Values written as raw JSON text

type DeepShape = "array" | "object" | "mixed" | "schema-properties" | "schema-items" | "schema-not" | "schema-anyOf";

/**
 * A value nested `depth` levels deep. It is written out as JSON text directly: JSON.stringify itself
 * overflows the stack at about 4,500 levels of arrays, and fast-check prints it as `Deep(shape, depth)`.
 */
export class Deep {
  constructor(
    readonly shape: DeepShape,
    readonly depth: number,
  ) {}

  json(): string {
    const d = this.depth;
    switch (this.shape) {
      case "array":
        return `${"[".repeat(d)}1${"]".repeat(d)}`;
      case "object":
        return `${'{"a":'.repeat(d)}1${"}".repeat(d)}`;
      case "mixed": {
        const open: string[] = [];
        const close: string[] = [];
        for (let i = 0; i < d; i++) {
          open.push(i % 2 === 0 ? "[" : '{"a":');
          close.push(i % 2 === 0 ? "]" : "}");
        }
        return `${open.join("")}"leaf"${close.reverse().join("")}`;
      }
      case "schema-properties":
        return `${'{"type":"object","properties":{"a":'.repeat(d)}{"type":"string"}${"}}".repeat(d)}`;
      case "schema-items":
        return `${'{"type":"array","items":'.repeat(d)}{"type":"string"}${"}".repeat(d)}`;
      case "schema-not":
        return `${'{"not":'.repeat(d)}{"type":"string"}${"}".repeat(d)}`;
      case "schema-anyOf":
        return `${'{"anyOf":['.repeat(d)}{"type":"string"}${"]}".repeat(d)}`;
    }
  }

  [fc.toStringMethod](): string {
    return `Deep(${JSON.stringify(this.shape)}, ${this.depth})`;
  }
}

/** `unit` repeated `count` times, printed as `Long(unit, count)`. */
export class Long {
  constructor(
    readonly unit: string,
    readonly count: number,
  ) {}

  json(): string {
    return JSON.stringify(this.unit.repeat(this.count));
  }

  [fc.toStringMethod](): string {
    return `Long(${JSON.stringify(this.unit)}, ${this.count})`;
  }
}

/** A Long of about `bytes` bytes of JSON text. */
export function longOfBytes(unit: string, bytes: number): Long {
  const each = Buffer.byteLength(JSON.stringify(unit)) - 2;
  return new Long(unit, Math.max(1, Math.floor(bytes / each)));
}

/** JSON text of a value that may hold Deep and Long values anywhere. */
export function encodeJson(value: unknown): string {
  const raw: string[] = [];
  const text = JSON.stringify(value, (_key, v: unknown) => (v instanceof Deep || v instanceof Long ? `\u0000raw:${raw.push(v.json()) - 1}\u0000` : v));
  if (text === undefined) return "";
  return raw.length === 0 ? text : text.replace(/"\\u0000raw:(\d+)\\u0000"/g, (_, i: string) => raw[Number(i)] as string);
}

/**
 * Sets (or, with `undefined`, deletes) the value at `path`, creating the objects and arrays on the
 * way; -1 is an array's last element. Own properties throughout, so `__proto__` is a plain key.
 */
export function setAt(target: unknown, path: readonly (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const root = isContainer(target) ? target : {};
  let node: Record<string | number, unknown> = root as Record<string | number, unknown>;
  path.forEach((segment, i) => {
    const key = segment === -1 && Array.isArray(node) ? Math.max(0, node.length - 1) : segment;
    if (i === path.length - 1) {
      if (value === undefined) delete node[key];
      else Object.defineProperty(node, key, { value, enumerable: true, writable: true, configurable: true });
      return;
    }
    const existing = Object.getOwnPropertyDescriptor(node, key)?.value;
    const next = isContainer(existing) ? existing : typeof path[i + 1] === "number" ? [] : {};
    if (next !== existing) Object.defineProperty(node, key, { value: next, enumerable: true, writable: true, configurable: true });
    node = next as Record<string | number, unknown>;
  });
  return root;
}

function isContainer(value: unknown): value is object {
  return typeof value === "object" && value !== null && !(value instanceof Deep) && !(value instanceof Long);
}

/**
 * A copy of arrays and objects (own keys, `__proto__` included), sharing Deep and Long: generated
 * values are mutated after they are built, and fast-check reuses them while it shrinks.
 */
export function cloneValue<T>(value: T): T {
  if (Array.isArray(value)) return value.map(cloneValue) as T;
  if (!isContainer(value)) return value;
  const copy = {};
  for (const [key, item] of Object.entries(value))
    Object.defineProperty(copy, key, { value: cloneValue(item), enumerable: true, writable: true, configurable: true });
  return copy as T;
}

// ---------------------------------------------------------------------------------------------------
// Requests and answers

export type ErrorShape = "problem" | "sdk";

export interface FuzzRequest {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  headers: Record<string, string>;
  /** A JSON value (Deep and Long allowed), sent as its JSON text. */
  body?: unknown;
  /** Raw body text instead of `body`. */
  raw?: string | Long;
  /** Sent as a stream (chunked, no content-length) instead of with a declared length. */
  chunked?: boolean;
}

export type Answer = { ok: true; status: number; headers: Headers; text: string; ms: number } | { ok: false; error: string; ms: number };

/** How long one answer may take, stream included, before it counts as hung. */
export const ANSWER_TIMEOUT_MS = 15_000;

export function bodyText(request: FuzzRequest): string | undefined {
  if (request.raw !== undefined) return typeof request.raw === "string" ? request.raw : request.raw.unit.repeat(request.raw.count);
  return request.body === undefined ? undefined : encodeJson(request.body);
}

/**
 * Sends the request and reads the whole answer, streams to their end. node:http rather than fetch:
 * a host may answer (401, 413, 415) without reading a large or chunked body and then close the
 * connection, and fetch reports that as a failed upload (EPIPE) instead of the answer it got. A new
 * connection each time, so no request is lost to a kept-alive connection the host is just closing.
 */
export function send(baseUrl: string, request: FuzzRequest, timeoutMs = ANSWER_TIMEOUT_MS): Promise<Answer> {
  const started = performance.now();
  const text = request.method === "GET" || request.method === "DELETE" ? undefined : bodyText(request);
  const bytes = text === undefined ? undefined : Buffer.from(text, "utf8");
  const headers: Record<string, string> = { ...request.headers };
  if (bytes && !request.chunked) headers["content-length"] = String(bytes.length);
  return new Promise<Answer>((resolve) => {
    let settled = false;
    const settle = (answer: Answer) => {
      if (!settled) resolve(answer);
      settled = true;
    };
    const failed = (error: Error & { code?: string }) =>
      settle({ ok: false, error: `${error.name}: ${error.message}${error.code ? ` (${error.code})` : ""}`, ms: performance.now() - started });
    let answered = false;
    const outgoing = httpRequest(`${baseUrl}${request.path}`, { method: request.method, headers, agent: false, timeout: timeoutMs }, (response) => {
      answered = true;
      const parts: Buffer[] = [];
      response.on("data", (part: Buffer) => parts.push(part));
      response.on("error", failed);
      response.on("aborted", () => failed(new Error("the answer was cut off")));
      response.on("end", () => {
        const answerHeaders = new Headers();
        for (const [name, value] of Object.entries(response.headers)) {
          for (const item of Array.isArray(value) ? value : value === undefined ? [] : [value]) answerHeaders.append(name, item);
        }
        const body = Buffer.concat(parts).toString("utf8");
        settle({ ok: true, status: response.statusCode ?? 0, headers: answerHeaders, text: body, ms: performance.now() - started });
      });
    });
    outgoing.on("timeout", () => outgoing.destroy(new Error(`the answer was idle for ${timeoutMs} ms`)));
    // An answer that came before the body was all sent counts; only a request with no answer fails.
    outgoing.on("error", (error) => {
      if (!answered) failed(error);
    });
    if (bytes && request.chunked) {
      for (let at = 0; at < bytes.length; at += 64 * 1024) outgoing.write(bytes.subarray(at, at + 64 * 1024));
      outgoing.end();
    } else {
      outgoing.end(bytes);
    }
  });
}

/**
 * The 5xx an upstream problem legitimately gives; anything else of 5xx is the app failing. 503 is
 * upstream_unavailable, or a dependency the app cannot reach (quota storage, caller keys).
 */
export function allowedServerError(status: number, code: unknown): boolean {
  if (code === "internal_error") return false;
  if (status === 502) return code === "invalid_model_output" || code === "bad_upstream_response";
  if (status === 503) return typeof code === "string" && code !== "";
  if (status === 504) return code === "upstream_timeout";
  return false;
}

/**
 * The emulator's own 500 ("Emulator failure."), which the app rightly passes on as 502 upstream_error:
 * a bug of the emulator (dev/emulator), not of the app, so the fuzz test counts it apart.
 */
export function isEmulatorFailure(answer: Answer): boolean {
  return answer.ok && answer.status === 502 && /"upstream_error"/.test(answer.text) && /Emulator failure\./.test(answer.text);
}

/** `"code": "internal_error"` as JSON writes it, not inside an echoed string (where quotes are escaped). */
const INTERNAL_ERROR = /"code"\s*:\s*"internal_error"/;

const snippet = (text: string) => JSON.stringify(text.length > 300 ? `${text.slice(0, 300)}...` : text);

function parseJson(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) };
  } catch {
    return undefined;
  }
}

/** The smallest body limit of any route (/api/chat's). */
const SMALLEST_BODY_LIMIT = 1024 * 1024;

/**
 * A body over every route's limit, refused with a 413 before it was read and the connection closed:
 * a client still writing it sees EPIPE or a reset before it reads the answer, as it would from any
 * server that closes on an oversized upload. That is a refusal, not a lost answer.
 */
function refusedUpload(request: FuzzRequest, error: string): boolean {
  const size = Buffer.byteLength(bodyText(request) ?? "");
  return size > SMALLEST_BODY_LIMIT && /\b(EPIPE|ECONNRESET)\b/.test(error);
}

/** Everything wrong with one answer; empty when it is fine. */
export function answerProblems(request: FuzzRequest, answer: Answer, shape: ErrorShape): string[] {
  if (!answer.ok) return refusedUpload(request, answer.error) ? [] : [`no answer: ${answer.error}`];
  const problems: string[] = [];
  const { status, headers, text } = answer;
  const requestId = headers.get("x-request-id");
  if (!requestId) problems.push(`status ${status} without x-request-id`);
  if (INTERNAL_ERROR.test(text)) problems.push(`internal_error in the body: ${snippet(text)}`);
  const type = headers.get("content-type") ?? "";

  if (status >= 400) {
    const parsed = parseJson(text);
    const body = (parsed?.value ?? null) as Record<string, any> | null;
    // Readiness answers 503 with its report, not a problem, when a dependency is down.
    const isReadiness = request.path.startsWith("/api/health/ready") && status === 503;
    const code = shape === "sdk" ? body?.error?.code : body?.code;
    if (status >= 500 && !isReadiness && !allowedServerError(status, code))
      problems.push(`status ${status} with code ${JSON.stringify(code)}: ${snippet(text)}`);
    if (!parsed) problems.push(`status ${status} with a body that is not JSON: ${snippet(text)}`);
    else if (!isReadiness) problems.push(...errorShapeProblems(body, shape, status, requestId, type));
    return problems;
  }
  if (status !== 200) problems.push(`unexpected status ${status}: ${snippet(text)}`);

  if (type.startsWith("text/event-stream")) {
    problems.push(...(shape === "sdk" ? dataStreamProblems(text) : eventStreamProblems(text)));
  } else {
    if (request.path === "/api/chat/stream") problems.push(`a 200 of /api/chat/stream that is not an event stream (${type})`);
    if (shape === "sdk" && isStreamRequest(request)) problems.push(`a 200 of a stream request that is not an event stream (${type})`);
    if (!parseJson(text)) problems.push(`a 200 whose body is not JSON: ${snippet(text)}`);
  }
  return problems;
}

function isStreamRequest(request: FuzzRequest): boolean {
  return typeof request.body === "object" && request.body !== null && (request.body as { stream?: unknown }).stream === true;
}

function errorShapeProblems(body: Record<string, any> | null, shape: ErrorShape, status: number, requestId: string | null, type: string): string[] {
  const problems: string[] = [];
  const text = snippet(JSON.stringify(body));
  if (shape === "problem") {
    if (!type.startsWith("application/problem+json")) problems.push(`status ${status} as ${type}, not application/problem+json`);
    if (typeof body?.code !== "string" || typeof body?.title !== "string" || typeof body?.detail !== "string" || typeof body?.type !== "string") {
      problems.push(`status ${status} with a body that is not a problem: ${text}`);
    }
    if (body?.status !== status) problems.push(`status ${status} but the problem says ${JSON.stringify(body?.status)}`);
    if (body?.request_id !== requestId) problems.push(`status ${status}: request_id ${JSON.stringify(body?.request_id)} is not x-request-id ${requestId}`);
  } else {
    if (!type.startsWith("application/json")) problems.push(`status ${status} as ${type}, not application/json`);
    const error = body?.error;
    if (!error || typeof error.code !== "string" || typeof error.message !== "string" || typeof error.type !== "string" || !("param" in error)) {
      problems.push(`status ${status} with a body that is not an SDK error: ${text}`);
    }
    if (error?.request_id !== requestId)
      problems.push(`status ${status}: error.request_id ${JSON.stringify(error?.request_id)} is not x-request-id ${requestId}`);
  }
  return problems;
}

interface SseEvent {
  event: string;
  data: string;
}

/** The events of an SSE body (comments left out), or a problem when it is not one. */
function sseEvents(text: string): SseEvent[] | string {
  if (!text.endsWith("\n\n")) return `the stream does not end with a blank line: ${snippet(text.slice(-200))}`;
  const events: SseEvent[] = [];
  for (const frame of text.slice(0, -2).split("\n\n")) {
    let event = "message";
    const data: string[] = [];
    for (const line of frame.split("\n")) {
      if (line.startsWith(":")) continue;
      if (line.startsWith("event: ")) event = line.slice("event: ".length);
      else if (line.startsWith("data: ")) data.push(line.slice("data: ".length));
      else return `a stream line that is no SSE field: ${snippet(line)}`;
    }
    if (data.length > 0) events.push({ event, data: data.join("\n") });
  }
  return events;
}

/** /api/chat/stream: exactly one terminal event, `done` or `error`, last; an error is a legitimate problem. */
function eventStreamProblems(text: string): string[] {
  const events = sseEvents(text);
  if (typeof events === "string") return [events];
  const problems: string[] = [];
  const terminals = events.filter((e) => e.event === "done" || e.event === "error");
  if (terminals.length !== 1 || events.at(-1) !== terminals[0]) {
    problems.push(`the stream has ${terminals.length} terminal events (${events.map((e) => e.event).join(",")}); it must end with exactly one`);
  }
  for (const event of events) {
    const data = parseJson(event.data);
    if (!data) {
      problems.push(`event ${event.event} carries data that is not JSON: ${snippet(event.data)}`);
      continue;
    }
    if (event.event === "error") {
      const problem = data.value as { code?: unknown; status?: unknown } | null;
      const status = typeof problem?.status === "number" ? problem.status : Number.NaN;
      if (!(status >= 400 && status < 500) && !allowedServerError(status, problem?.code)) {
        problems.push(`an error event with status ${problem?.status} and code ${JSON.stringify(problem?.code)}: ${snippet(event.data)}`);
      }
    }
  }
  return problems;
}

/** Drop-in streams: chunks, then exactly one `[DONE]` or error frame, last; never internal_error. */
function dataStreamProblems(text: string): string[] {
  const events = sseEvents(text);
  if (typeof events === "string") return [events];
  const problems: string[] = [];
  const isTerminal = (e: SseEvent) => e.data === "[DONE]" || (parseJson(e.data)?.value as { error?: unknown } | null)?.error !== undefined;
  const terminals = events.filter(isTerminal);
  if (terminals.length !== 1 || events.at(-1) !== terminals[0]) {
    problems.push(`the stream has ${terminals.length} terminal frames of ${events.length}; it must end with exactly one [DONE] or error`);
  }
  for (const event of events) {
    if (event.data === "[DONE]") continue;
    const data = parseJson(event.data);
    if (!data) problems.push(`a frame that is not JSON: ${snippet(event.data)}`);
    const code = (data?.value as { error?: { code?: unknown } } | null)?.error?.code;
    if (code === "internal_error") problems.push(`an internal_error frame: ${snippet(event.data)}`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------
// Event-loop stalls

interface Probe {
  start: number;
  end: number;
  ok: boolean;
}

/**
 * Sends GET /api/health every `intervalMs` (one at a time) and keeps how long each took: a host whose
 * event loop is blocked answers late. `url` is read at every probe, so a restarted host is followed.
 */
export class HealthProbe {
  readonly #probes: Probe[] = [];
  #running = false;
  #current: Promise<Probe> | undefined;
  #loop: Promise<void> | undefined;

  constructor(
    private readonly url: () => string,
    private readonly intervalMs = 50,
  ) {}

  start(): void {
    this.#running = true;
    this.#loop = (async () => {
      while (this.#running) {
        await this.probe();
        await new Promise((resolve) => setTimeout(resolve, this.intervalMs));
      }
    })();
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }

  /** One probe now (after the one under way): whether the host answered 200, and how fast. */
  async probe(): Promise<Probe> {
    while (this.#current) await this.#current;
    this.#current = (async () => {
      const start = performance.now();
      const answer = await send(this.url(), { method: "GET", path: "/api/health", headers: {} }, 5_000);
      const probe = { start, end: performance.now(), ok: answer.ok && answer.status === 200 };
      this.#probes.push(probe);
      return probe;
    })();
    try {
      return await this.#current;
    } finally {
      this.#current = undefined;
    }
  }

  /**
   * The slowest probe that ran (in part) after `since` (performance.now()); one that got no answer
   * counts with the time it waited (a refused connection fails at once, a stalled host times out).
   */
  worstSince(since: number): number {
    let worst = 0;
    for (const p of this.#probes) if (p.end >= since) worst = Math.max(worst, p.end - p.start);
    return worst;
  }

  get worst(): number {
    return this.worstSince(0);
  }

  get count(): number {
    return this.#probes.length;
  }
}
