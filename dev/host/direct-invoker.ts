import type { IncomingMessage, ServerResponse } from "node:http";
import type { CoreApi } from "./core-api.js";
import { flatHeaders, type HttpFunction, type Invoker } from "./http-function.js";
import { hostTraceContext } from "./trace-context.js";

/** The parts of `@azure/functions` the direct path uses: its own request, response and context classes. */
export interface FunctionsLibrary {
  HttpRequest: new (init: unknown) => unknown;
  HttpResponse: new (init?: unknown) => LibraryResponse;
  InvocationContext: new (init: unknown) => unknown;
}

interface LibraryResponse {
  status: number;
  headers: Headers;
  cookies: Array<Record<string, unknown>>;
  body: ReadableStream<Uint8Array> | null;
}

/** Hop-by-hop headers the library's proxy never passes on; the direct path drops the same ones. */
const BLOCKED_RESPONSE_HEADERS = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "trailers",
  "transfer-encoding",
  "upgrade",
]);

/**
 * Invokes a function in-process, with the library's own HttpRequest (over a streamed native Request,
 * as the library builds it for HTTP streaming), InvocationContext and HttpResponse, and writes the
 * response as the library's proxy does. It saves the loopback hop to the library's proxy, so what it
 * costs per request is close to what the Node worker itself costs in Azure; the host test suite
 * runs against both invokers to keep them equivalent.
 */
export class DirectInvoker implements Invoker {
  constructor(
    private readonly core: CoreApi,
    private readonly library: FunctionsLibrary,
  ) {}

  async invoke(fn: HttpFunction, params: Record<string, string>, invocationId: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { HttpRequest, HttpResponse, InvocationContext } = this.library;
    const headers = flatHeaders(req);
    const method = req.method ?? "GET";
    const hasBody = method !== "GET" && method !== "HEAD";
    const nativeRequest = new Request(`http://${headers.host ?? "localhost"}${req.url ?? "/"}`, {
      method,
      headers,
      body: hasBody ? await requestBody(req) : undefined,
      duplex: "half",
    } as RequestInit);
    const request = new HttpRequest({ nativeRequest, params });
    const context = new InvocationContext({
      invocationId,
      functionName: fn.name,
      traceContext: hostTraceContext(headers.traceparent, headers.tracestate),
      options: { trigger: fn.trigger, extraInputs: [], extraOutputs: [] },
      logHandler: (level: string, ...args: unknown[]) => this.core.log(level as never, "user", `[${fn.name}] ${args.map(String).join(" ")}`),
    });

    const result = await this.core.invoke(fn.registration.callback, context, [request]);

    // A function may answer without reading the whole body (a 413): the rest is not read, and the
    // connection closes after the answer so the client does not send its next request into it.
    if (!req.complete) res.shouldKeepAlive = false;
    const finite = finiteAnswer(result, HttpResponse);
    if (finite) return writeFinite(res, finite);
    const streamed = streamedAnswer(result, HttpResponse);
    if (streamed) return writeStreamed(res, streamed);
    const response = result instanceof HttpResponse ? result : new HttpResponse(result ?? {});
    await write(res, response);
  }
}

/** A handler's headers: a plain record (the common case) is read as is, anything else through Headers. */
function headersOf(init: ConstructorParameters<typeof Headers>[0]): Map<string, string> {
  const headers = new Map<string, string>();
  if (init && typeof init === "object" && !Array.isArray(init) && !(init instanceof Headers)) {
    for (const [name, value] of Object.entries(init as Record<string, string>)) headers.set(name.toLowerCase(), String(value));
  } else {
    for (const [name, value] of new Headers(init)) headers.set(name, value);
  }
  return headers;
}

/** Bodies up to this size, declared in content-length, are read before the function starts. */
const SMALL_BODY_BYTES = 64 * 1024;

/**
 * A small body with a declared length is read up front and handed over in one piece (what a chat
 * request is); anything else streams in as the function reads it, so a function can refuse an
 * oversized body without the host reading it.
 */
async function requestBody(req: IncomingMessage): Promise<Buffer | ReadableStream<Uint8Array>> {
  const declared = Number(req.headers["content-length"]);
  if (!(declared <= SMALL_BODY_BYTES)) return req as unknown as ReadableStream<Uint8Array>;
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

interface FiniteAnswer {
  status: number;
  headers: Map<string, string>;
  cookies: Array<Record<string, unknown>>;
  body: string | undefined;
}

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/**
 * A plain HttpResponseInit whose body is already in memory (jsonBody, a string, or none), read with
 * the library's rules: jsonBody is serialised with a default content type of application/json, a
 * string body defaults to text/plain;charset=UTF-8, and null-body statuses carry no body. It is
 * written in one piece, skipping the web-stream round trip a response object would take.
 */
function finiteAnswer(result: unknown, HttpResponse: FunctionsLibrary["HttpResponse"]): FiniteAnswer | undefined {
  if (result === undefined || result === null) return { status: 200, headers: new Map(), cookies: [], body: undefined };
  if (typeof result !== "object" || result instanceof HttpResponse) return undefined;
  const init = result as {
    status?: number;
    headers?: ConstructorParameters<typeof Headers>[0];
    cookies?: Array<Record<string, unknown>>;
    jsonBody?: unknown;
    body?: unknown;
  };
  const status = init.status ?? 200;
  const headers = headersOf(init.headers);
  const nullBody = NULL_BODY_STATUSES.has(status);
  let body: string | undefined;
  if (init.jsonBody !== undefined && init.jsonBody !== null && !nullBody) {
    body = JSON.stringify(init.jsonBody);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  } else if (typeof init.body === "string" && !nullBody) {
    body = init.body;
    if (!headers.has("content-type")) headers.set("content-type", "text/plain;charset=UTF-8");
  } else if (init.body !== undefined && init.body !== null) {
    return undefined;
  }
  return { status, headers, cookies: init.cookies ?? [], body };
}

interface StreamedAnswer {
  status: number;
  headers: Map<string, string>;
  cookies: Array<Record<string, unknown>>;
  body: AsyncIterable<Uint8Array>;
}

/**
 * A plain HttpResponseInit whose body is a stream (a web ReadableStream, a Node Readable or an async
 * iterable of bytes): the library passes such bodies through unchanged, with no default content
 * type, so the host relays the chunks as they come without wrapping them in a Response first.
 */
function streamedAnswer(result: unknown, HttpResponse: FunctionsLibrary["HttpResponse"]): StreamedAnswer | undefined {
  if (!result || typeof result !== "object" || result instanceof HttpResponse) return undefined;
  const init = result as {
    status?: number;
    headers?: ConstructorParameters<typeof Headers>[0];
    cookies?: Array<Record<string, unknown>>;
    jsonBody?: unknown;
    body?: unknown;
  };
  const body = init.body as AsyncIterable<Uint8Array> | null | undefined;
  const status = init.status ?? 200;
  if (init.jsonBody !== undefined || !body || typeof body[Symbol.asyncIterator] !== "function" || NULL_BODY_STATUSES.has(status)) return undefined;
  return { status, headers: headersOf(init.headers), cookies: init.cookies ?? [], body };
}

async function writeStreamed(res: ServerResponse, answer: StreamedAnswer): Promise<void> {
  writeHead(res, answer.status, answer.headers, answer.cookies);
  await relay(res, answer.body);
}

function writeHead(res: ServerResponse, status: number, headers: Headers | Map<string, string>, cookies: Array<Record<string, unknown>>): void {
  const connection = new Set((headers.get("connection") ?? "").split(",").map((h) => h.trim().toLowerCase()));
  for (const [name, value] of headers) {
    if (!BLOCKED_RESPONSE_HEADERS.has(name) && !connection.has(name)) res.setHeader(name, value);
  }
  if (cookies.length > 0) res.setHeader("set-cookie", cookies.map(serializeCookie));
  res.statusCode = status;
}

function writeFinite(res: ServerResponse, answer: FiniteAnswer): void {
  writeHead(res, answer.status, answer.headers, answer.cookies);
  res.end(answer.body);
}

async function write(res: ServerResponse, response: LibraryResponse): Promise<void> {
  writeHead(res, response.status, response.headers, response.cookies);
  await relay(res, response.body);
}

async function relay(res: ServerResponse, body: AsyncIterable<Uint8Array> | null): Promise<void> {
  if (body) {
    for await (const chunk of body) {
      if (res.destroyed) continue; // like Azure, the function is not told that its caller left
      if (!res.write(chunk)) await new Promise<void>((resolve) => res.once("drain", resolve).once("close", resolve));
    }
  }
  res.end();
}

/** Set-Cookie as the library writes it (through the `cookie` package), attributes in the same order. */
function serializeCookie(cookie: Record<string, unknown>): string {
  const parts = [`${cookie.name}=${encodeURIComponent(String(cookie.value))}`];
  if (cookie.maxAge !== undefined) parts.push(`Max-Age=${Math.floor(Number(cookie.maxAge))}`);
  if (cookie.domain) parts.push(`Domain=${cookie.domain}`);
  if (cookie.path) parts.push(`Path=${cookie.path}`);
  if (cookie.expires) parts.push(`Expires=${new Date(cookie.expires as string | number | Date).toUTCString()}`);
  if (cookie.httpOnly) parts.push("HttpOnly");
  if (cookie.secure) parts.push("Secure");
  if (cookie.sameSite) parts.push(`SameSite=${cookie.sameSite}`);
  return parts.join("; ");
}
