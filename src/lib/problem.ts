import { catalogEntry } from "./problem-catalog.js";

export interface ProblemInit {
  status: number;
  /** Stable for programs: one of the catalog's codes, or the model's own for a request it refused. */
  code: string;
  /** For people; never a stack, a key or an upstream URL. */
  detail: string;
  /** The catalog's title for the code when absent. */
  title?: string;
  headers?: Record<string, string>;
  /** Fields added to the problem's body, e.g. `param`. */
  extensions?: Record<string, unknown>;
  /** What caused it, kept for logs; never shown to a caller. */
  cause?: unknown;
}

/**
 * An RFC 9457 problem: anything that fails a request becomes one (lib/to-problem.ts), and the http
 * layer writes it as `application/problem+json` or in the SDK error shape.
 */
export class HttpProblem extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string;
  readonly headers: Record<string, string>;
  readonly extensions: Record<string, unknown>;

  constructor(init: ProblemInit) {
    super(init.detail, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "HttpProblem";
    this.status = init.status;
    this.code = init.code;
    this.title = init.title ?? catalogEntry(init.code)?.title ?? STATUS_TITLES[init.status] ?? "Error";
    this.detail = init.detail;
    this.headers = init.headers ?? {};
    this.extensions = init.extensions ?? {};
  }
}

const STATUS_TITLES: Record<number, string> = { 400: "Bad Request", 422: "Unprocessable Request", 429: "Too Many Requests" };

/** `type` is a URN per code, so clients can switch on it without fetching anything. */
export function problemType(code: string): string {
  return `urn:mistral-functions:problem:${code}`;
}

export const unauthorized = () =>
  new HttpProblem({
    status: 401,
    code: "unauthorized",
    detail: "Send a valid API key in the api-key header or as Authorization: Bearer <key>.",
    headers: { "www-authenticate": 'Bearer realm="api"' },
  });

/** A `model` that names no configured deployment: 400, listing the ones there are. */
export const unknownModel = (model: unknown, aliases: readonly string[]) =>
  new HttpProblem({
    status: 400,
    code: "model_not_found",
    detail: `Unknown model ${JSON.stringify(model)}. Known models: ${aliases.join(", ")}.`,
    extensions: { param: "model", rule: "enum" },
  });

/** A max_tokens over the app's ceiling (MODEL_MAX_TOKENS): refused, not clamped. */
export const tooManyTokens = (ceiling: number) =>
  new HttpProblem({
    status: 400,
    code: "invalid_request",
    detail: `max_tokens may be at most ${ceiling} here.`,
    extensions: { param: "max_tokens", rule: "maximum" },
  });

/** A problem's body (RFC 9457), with the request's id: what problem+json answers, a stream's `error` event and a failed job carry. */
export function problemBody(problem: HttpProblem, requestId: string): Record<string, unknown> {
  return {
    type: problemType(problem.code),
    title: problem.title,
    status: problem.status,
    detail: problem.detail,
    code: problem.code,
    request_id: requestId,
    ...problem.extensions,
  };
}
