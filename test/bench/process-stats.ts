import { readFileSync } from "node:fs";

/** CPU time (user + system) a process has used so far, in milliseconds, from /proc (Linux). */
export function cpuTimeMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name, which may itself contain spaces, start after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** Resident memory of a process, in MiB. */
export function residentMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1]);
  return kib / 1024;
}

/**
 * Resident memory once the process has been idle a while: V8 gives memory back to the system only
 * after a full collection or some idle time (its memory reducer, whose timing varies), so a reading
 * right after a burst says little. Samples every 500 ms for `ms` and answers the lowest.
 */
export async function settledResidentMiB(pid: number, ms = 5_000): Promise<number> {
  let lowest = residentMiB(pid);
  for (let waited = 0; waited < ms; waited += 500) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    lowest = Math.min(lowest, residentMiB(pid));
  }
  return lowest;
}

/** USER_HZ; 100 on every mainstream Linux build. */
const CLOCK_TICKS_PER_SECOND = 100;
