/**
 * A typed client for the app's chat routes, for a page or any other JavaScript caller: `chat()` for one
 * JSON answer (`POST /api/chat`), `chatStream()` for the server-sent events of `POST /api/chat/stream`,
 * read with `fetch` (EventSource cannot POST). The request and answer types are the ones the app validates
 * and answers with (src/chat/schema.ts, src/chat/from-wire.ts): imported as types only, so nothing of the
 * app is bundled. Copy this file into a frontend as it is; it needs nothing but `fetch`.
 */
import type { ChatResponse } from "../../src/chat/from-wire.js";
import type { ChatMessage, ChatRequest } from "../../src/chat/schema.js";

export type { ChatMessage, ChatRequest, ChatResponse };

/** The problem+json body every error has (docs/errors.md). */
export interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  code?: string;
  request_id?: string;
  param?: string;
}

/** The events of `/api/chat/stream`, in order: `start`, `delta`s (and tool calls and results), then `done` or `error`. */
export type StreamEvent =
  | { event: "start"; data: { id: string; model: string; created: number } }
  | { event: "delta"; data: { content: string } }
  | { event: "tool_call"; data: { id: string; name: string; arguments: string } }
  | { event: "tool_result"; data: { id: string; name: string; content?: unknown; error?: string } }
  | { event: "done"; data: Pick<ChatResponse, "finish_reason" | "usage" | "message"> }
  | { event: "error"; data: Problem };

export interface ClientOptions {
  /** The app's API, e.g. `https://<app>.azurewebsites.net/api`. */
  baseUrl: string;
  /** An access token (signed-in users) or a caller key (servers); asked for before each request. */
  credential: () => Promise<string> | string;
  signal?: AbortSignal;
}

/** A failed request: the app's problem, and when to try again (from `Retry-After`, on a 429 or 503). */
export class ChatError extends Error {
  constructor(
    readonly problem: Problem,
    readonly retryAfterSeconds: number | undefined,
  ) {
    super(problem.detail ?? problem.title ?? `HTTP ${problem.status}`);
    this.name = "ChatError";
  }

  /** The request id to quote when reporting the problem (the answer's `x-request-id`). */
  get requestId(): string | undefined {
    return this.problem.request_id;
  }
}

async function post(path: string, request: ChatRequest, options: ClientOptions): Promise<Response> {
  const response = await fetch(`${options.baseUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${await options.credential()}` },
    body: JSON.stringify(request),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (!response.ok) throw await errorOf(response);
  return response;
}

async function errorOf(response: Response): Promise<ChatError> {
  let problem: Problem;
  try {
    problem = (await response.json()) as Problem;
  } catch {
    problem = { status: response.status, title: response.statusText };
  }
  problem.request_id ??= response.headers.get("x-request-id") ?? undefined;
  const retryAfter = Number(response.headers.get("retry-after"));
  return new ChatError({ ...problem, status: response.status }, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined);
}

/** One answer, whole: what `/api/chat` returns (with `parsed` in JSON mode and `steps` for server tools). */
export async function chat(request: ChatRequest, options: ClientOptions): Promise<ChatResponse> {
  return (await (await post("/chat", request, options)).json()) as ChatResponse;
}

/**
 * The answer as it is made: yields each event of `/api/chat/stream`. Fails with ChatError before the first
 * event (a bad request, throttling, an unavailable model); a failure later is the stream's `error` event.
 * Aborting `signal` stops reading and ends the request.
 */
export async function* chatStream(request: ChatRequest, options: ClientOptions): AsyncGenerator<StreamEvent> {
  const response = await post("/chat/stream", request, options);
  if (!response.body) return;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += value;
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (frame.startsWith(":")) continue; // `: ping` while the model is silent
        const event = /^event: (.*)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (event && data !== undefined) yield { event, data: JSON.parse(data) } as StreamEvent;
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** The deployments the app offers (`GET /api/info`), the default first. */
export async function deployments(options: ClientOptions): Promise<{ alias: string; default: boolean; model_name?: string }[]> {
  const response = await fetch(`${options.baseUrl}/info`, { headers: { authorization: `Bearer ${await options.credential()}` } });
  if (!response.ok) throw await errorOf(response);
  return ((await response.json()) as { deployments: { alias: string; default: boolean; model_name?: string }[] }).deployments;
}
