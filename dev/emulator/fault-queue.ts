/** A fault to apply to upcoming matching requests; see the admin API in docs/local-stack.md. */
export interface Fault {
  match?: { deployment?: string; path?: string };
  times?: number;
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
  delay_ms?: number;
  no_response?: boolean;
  stall_after_chunks?: number;
  reset_after_chunks?: number;
  malformed_chunk?: boolean | number;
  empty_choices_chunk?: boolean;
  omit_done?: boolean;
}

const FAULT_FIELDS = new Set([
  "match",
  "times",
  "status",
  "headers",
  "body",
  "delay_ms",
  "no_response",
  "stall_after_chunks",
  "reset_after_chunks",
  "malformed_chunk",
  "empty_choices_chunk",
  "omit_done",
]);

interface QueuedFault {
  fault: Fault;
  remaining: number;
}

/** Faults in the order they were queued; each applies to its next `times` matching requests. */
export class FaultQueue {
  #queue: QueuedFault[] = [];

  add(faults: Fault[]): void {
    for (const fault of faults) this.#queue.push({ fault, remaining: fault.times ?? 1 });
  }

  take(deployment: string, path: string): Fault | undefined {
    const index = this.#queue.findIndex(({ fault }) => matches(fault, deployment, path));
    if (index < 0) return undefined;
    const queued = this.#queue[index] as QueuedFault;
    queued.remaining -= 1;
    if (queued.remaining <= 0) this.#queue.splice(index, 1);
    return queued.fault;
  }

  get pending(): number {
    return this.#queue.length;
  }

  clear(): void {
    this.#queue = [];
  }
}

/** A fault without `match.path` is for chat completions; `/info` takes only faults that name its path. */
function matches(fault: Fault, deployment: string, path: string): boolean {
  const match = fault.match ?? {};
  if (match.deployment !== undefined && match.deployment !== deployment) return false;
  if (match.path !== undefined) return path.endsWith(match.path);
  return path.endsWith("/chat/completions");
}

/** Checks a fault list from the admin API; returns the problems found. */
export function faultProblems(value: unknown): string[] {
  if (!value || typeof value !== "object" || !Array.isArray((value as { faults?: unknown }).faults)) {
    return ['body must be {"faults": [...]}'];
  }
  const problems: string[] = [];
  (value as { faults: unknown[] }).faults.forEach((fault, i) => {
    if (!fault || typeof fault !== "object") return problems.push(`faults[${i}] must be an object`);
    for (const key of Object.keys(fault)) {
      if (!FAULT_FIELDS.has(key)) problems.push(`faults[${i}].${key} is not a known fault field`);
    }
    const f = fault as Fault;
    if (f.times !== undefined && !(Number.isInteger(f.times) && f.times >= 1)) problems.push(`faults[${i}].times must be an integer >= 1`);
    if (f.status !== undefined && !(Number.isInteger(f.status) && f.status >= 100 && f.status <= 599))
      problems.push(`faults[${i}].status must be an HTTP status`);
    return undefined;
  });
  return problems;
}
