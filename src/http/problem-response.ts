import type { HttpResponseInit } from "@azure/functions";
import { type HttpProblem, problemType } from "../lib/problem.js";

/** A problem as `application/problem+json` (RFC 9457), with the request's id. */
export function problemResponse(problem: HttpProblem, requestId: string): HttpResponseInit {
  return { status: problem.status, headers: { "content-type": "application/problem+json", ...problem.headers }, jsonBody: problemBody(problem, requestId) };
}

/** The problem's body: also what a stream's `error` event carries. */
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
