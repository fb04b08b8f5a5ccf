import type { WireMessage, WireToolCall } from "../lib/wire.js";
import { telemetry } from "../telemetry/telemetry.js";
import { ToolError } from "./server-tool.js";
import { Slots } from "./slots.js";
import type { ToolRegistry } from "./tool-registry.js";

export interface ToolLimits {
  /** How long one tool call may take. */
  timeoutMs: number;
  /** The most of a tool's output (as JSON) the model is shown. */
  maxOutputBytes: number;
  /** How many rounds of tool calls before the model must answer in text. */
  maxIterations: number;
  /** Calls run from one model turn; the model's further calls are answered with an error. */
  maxCallsPerTurn?: number;
  /** Calls run for one request, over all its turns; further calls are answered with an error. */
  maxCallsPerRequest?: number;
  /** Calls of one request running at once; the others wait their turn. */
  maxConcurrent?: number;
}

/** One model turn could otherwise ask for hundreds of calls, each an outbound request. */
export const DEFAULT_TOOL_FAN_OUT = { maxCallsPerTurn: 8, maxCallsPerRequest: 32, maxConcurrent: 4 } as const;

export interface ToolStep {
  tool_call: { id: string; name: string; arguments: string };
  result?: unknown;
  error?: string;
}

/**
 * The server-run tools of one request: what the model is offered, and running the calls it makes.
 * Arguments are parsed and checked against the tool's schema before anything runs; an unknown tool
 * or bad arguments go back to the model as a tool error. Each call id runs at most once.
 */
export class ToolSession {
  readonly steps: ToolStep[] = [];
  /** Every call id the model used, run or refused: an id is answered once. */
  readonly #ran = new Set<string>();
  /** Calls that were run (or wait to be), for the per-request limit. */
  #runs = 0;
  readonly #slots: Slots;

  constructor(
    private readonly registry: ToolRegistry,
    private readonly allowed: readonly string[],
    readonly limits: ToolLimits,
  ) {
    this.#slots = new Slots(limits.maxConcurrent ?? DEFAULT_TOOL_FAN_OUT.maxConcurrent);
  }

  /** The tools as the model API describes them. */
  definitions() {
    return this.allowed.map((name) => {
      const { tool } = this.registry.get(name) as NonNullable<ReturnType<ToolRegistry["get"]>>;
      return { type: "function" as const, function: { name: tool.name, description: tool.description, parameters: tool.parameters } };
    });
  }

  /** A turn's calls with any repeated id dropped: one call, and one answer, per id. */
  static unique(calls: readonly WireToolCall[]): WireToolCall[] {
    const seen = new Set<string>();
    return calls.filter((call) => !seen.has(call.id) && seen.add(call.id));
  }

  /**
   * Runs the calls of one model turn concurrently, yielding each step, with its position in `calls`
   * and the tool message for the model, as soon as that call finishes.
   */
  async *run(calls: readonly WireToolCall[], signal: AbortSignal): AsyncGenerator<{ index: number; step: ToolStep; message: WireMessage }> {
    const pending = new Map<number, Promise<{ index: number; step: ToolStep }>>();
    const perTurn = this.limits.maxCallsPerTurn ?? DEFAULT_TOOL_FAN_OUT.maxCallsPerTurn;
    const perRequest = this.limits.maxCallsPerRequest ?? DEFAULT_TOOL_FAN_OUT.maxCallsPerRequest;
    calls.forEach((call, index) => {
      // Every call gets an answer (the model API wants one per call), but past the limits it is a refusal.
      const refusal =
        index >= perTurn
          ? `Not run: at most ${perTurn} tool calls are run per turn; ask for fewer at once.`
          : this.#runs >= perRequest
            ? `Not run: at most ${perRequest} tool calls are run per request.`
            : undefined;
      if (refusal !== undefined) this.#ran.add(call.id);
      const step = refusal !== undefined ? Promise.resolve(refused(call, refusal)) : this.#runOne(call, signal);
      pending.set(
        index,
        step.then((done) => ({ index, step: done })),
      );
    });
    while (pending.size > 0) {
      const { index, step } = await Promise.race(pending.values());
      pending.delete(index);
      this.steps.push(step);
      yield { index, step, message: { role: "tool", tool_call_id: step.tool_call.id, content: this.#content(step) } };
    }
  }

  async #runOne(call: WireToolCall, signal: AbortSignal): Promise<ToolStep> {
    const step: ToolStep = { tool_call: { id: call.id, name: call.function.name, arguments: call.function.arguments } };
    // Counted when asked for, so that calls waiting for a slot count against the request's limit.
    const first = !this.#ran.has(call.id);
    this.#ran.add(call.id);
    this.#runs++;
    let release: (() => void) | undefined;
    try {
      release = await this.#slots.take(signal);
    } catch {
      step.error = "Not run: the request ended first.";
      return step;
    }
    const span = telemetry().tool(call.function.name, call.id, call.function.arguments);
    try {
      if (!first) throw new ToolError(`The tool call ${call.id} has already run.`);
      step.result = await this.#execute(call, signal);
    } catch (error) {
      step.error = error instanceof ToolError ? error.message : "The tool failed.";
    } finally {
      release();
    }
    span.end(step.error !== undefined ? { error: step.error } : { result: () => this.#content(step) });
    return step;
  }

  async #execute(call: WireToolCall, signal: AbortSignal): Promise<unknown> {
    const registered = this.allowed.includes(call.function.name) ? this.registry.get(call.function.name) : undefined;
    if (!registered) throw new ToolError(`There is no tool named ${call.function.name}. Available: ${this.allowed.join(", ")}.`);
    let args: unknown;
    try {
      args = JSON.parse(call.function.arguments || "{}");
    } catch {
      throw new ToolError("The arguments are not valid JSON.");
    }
    if (!registered.validate(args)) {
      const problem = registered.validate.errors?.[0];
      throw new ToolError(`Invalid arguments: ${problem?.instancePath || "the arguments"} ${problem?.message ?? "are not valid"}.`);
    }
    const release = await this.registry.slots.take(signal).catch(() => {
      throw new ToolError("Not run: the request ended first.");
    });
    try {
      return await withTimeout((toolSignal) => registered.tool.execute(args as Record<string, unknown>, toolSignal), this.limits.timeoutMs, signal);
    } finally {
      release();
    }
  }

  /**
   * What the model reads: the result as JSON, or the error. A result over the size cap becomes
   * `{"truncated": true, "content": <the start of its JSON>}`, cut so that the whole message, escaping
   * included, fits the cap.
   */
  #content(step: ToolStep): string {
    if (step.error !== undefined) return JSON.stringify({ error: step.error });
    const max = this.limits.maxOutputBytes;
    const text = JSON.stringify(step.result ?? null);
    if (Buffer.byteLength(text) <= max) return text;
    let keep = Math.min(text.length, max);
    for (;;) {
      const cut = { truncated: true, content: text.slice(0, keep) };
      const wrapped = JSON.stringify(cut);
      const size = Buffer.byteLength(wrapped);
      if (size <= max || keep === 0) {
        step.result = cut;
        return wrapped;
      }
      keep = Math.floor(((keep * max) / size) * 0.95);
    }
  }
}

function refused(call: WireToolCall, error: string): ToolStep {
  return { tool_call: { id: call.id, name: call.function.name, arguments: call.function.arguments }, error };
}

async function withTimeout<T>(run: (signal: AbortSignal) => Promise<T>, timeoutMs: number, outer: AbortSignal): Promise<T> {
  const controller = new AbortController();
  let onAbort = () => controller.abort();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    // The request's own end abandons the tool too, whether or not it heeds its signal.
    onAbort = () => {
      reject(new ToolError("Not finished: the request ended first."));
      controller.abort();
    };
    if (outer.aborted) onAbort();
    else outer.addEventListener("abort", onAbort, { once: true });
    timer = setTimeout(() => {
      // Settle first: a tool that answers as it is aborted must not win the race.
      reject(new ToolError(`The tool did not answer within ${timeoutMs} ms.`));
      controller.abort();
    }, timeoutMs);
  });
  try {
    // A tool that ignores its signal is still abandoned when its time is up.
    return await Promise.race([run(controller.signal), timeout]);
  } finally {
    clearTimeout(timer);
    outer.removeEventListener("abort", onAbort);
  }
}
