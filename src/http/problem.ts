import type { HttpResponseInit } from "@azure/functions";

/**
 * An RFC 9457 problem a handler can throw; the handler wrapper turns it into
 * `application/problem+json`. `code` is stable for programs; `detail` is for people.
 */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail: string,
    readonly headers: Record<string, string> = {},
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = "HttpProblem";
  }
}

/** `type` is a URN per code, so clients can switch on it without fetching anything. */
export function problemType(code: string): string {
  return `urn:mistral-functions:problem:${code}`;
}

export function problemResponse(problem: HttpProblem, requestId: string): HttpResponseInit {
  return {
    status: problem.status,
    headers: { "content-type": "application/problem+json", ...problem.headers },
    jsonBody: {
      type: problemType(problem.code),
      title: problem.title,
      status: problem.status,
      detail: problem.detail,
      code: problem.code,
      request_id: requestId,
      ...problem.extensions,
    },
  };
}

export const unauthorized = () =>
  new HttpProblem(
    401,
    "unauthorized",
    "Unauthorized",
    "Send a valid API key in the api-key header or as Authorization: Bearer <key>.",
    { "www-authenticate": 'Bearer realm="api"' },
  );

/** A `model` that names no configured deployment: 400, listing the ones there are. */
export const unknownModel = (model: unknown, aliases: readonly string[]) =>
  new HttpProblem(400, "model_not_found", "Bad Request", `Unknown model ${JSON.stringify(model)}. Known models: ${aliases.join(", ")}.`, {}, {
    param: "model",
    rule: "enum",
  });

/** A max_tokens over the app's ceiling (MODEL_MAX_TOKENS): refused, not clamped. */
export const tooManyTokens = (ceiling: number) =>
  new HttpProblem(400, "invalid_request", "Bad Request", `max_tokens may be at most ${ceiling} here.`, {}, { param: "max_tokens", rule: "maximum" });
