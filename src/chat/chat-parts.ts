import type { HttpProblem } from "../lib/problem.js";
import type { ChatResponse } from "./from-wire.js";

/**
 * What one chat run says, in order: `start` once the model's answer begins, a `delta` per piece of
 * text, a `tool_call` per complete call (and for server-run tools a `tool_result` as each finishes,
 * then the next turn's deltas), then exactly one of `done` (the whole answer, as /api/chat returns
 * it) or `error` (a problem). Routes turn these into JSON, SSE events or a job's result.
 */
export type ChatPart =
  | { type: "start"; id: string; model: string; created: number }
  | { type: "delta"; content: string }
  | { type: "tool_call"; id: string; name: string; arguments: string }
  | { type: "tool_result"; id: string; name: string; content?: unknown; error?: string }
  | { type: "done"; response: ChatResponse }
  | { type: "error"; problem: HttpProblem };
