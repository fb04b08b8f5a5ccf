import type { HttpResponseInit } from "@azure/functions";
import type { HttpProblem } from "../lib/problem.js";
import { problemBody } from "../lib/problem.js";

/** A problem as `application/problem+json` (RFC 9457), with the request's id. */
export function problemResponse(problem: HttpProblem, requestId: string): HttpResponseInit {
  return { status: problem.status, headers: { "content-type": "application/problem+json", ...problem.headers }, jsonBody: problemBody(problem, requestId) };
}
