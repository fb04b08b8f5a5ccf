import { problemCategory, telemetry } from "./telemetry.js";

/** Counts a problem that ended a stream after it began (the handler wrapper counts the others). */
export function countStreamProblem(problem: { status: number; code: string }): void {
  const category = problemCategory(problem.status, problem.code);
  if (category) telemetry().problem(category, problem.code);
}
