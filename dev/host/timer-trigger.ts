import { Cron } from "croner";
import type { CoreApi } from "./core-api.js";
import type { FunctionsLibrary } from "./direct-invoker.js";
import { invokeTriggered, type TriggeredFunction, triggeredFunctions } from "./triggered-function.js";

/** A registered function with a timer trigger. */
interface TimerFunction extends TriggeredFunction {
  /** An NCRONTAB expression: `{second} {minute} {hour} {day} {month} {day-of-week}`. */
  schedule: string;
  runOnStartup: boolean;
}

export function timerFunctions(core: CoreApi): TimerFunction[] {
  return triggeredFunctions(core, "timerTrigger").map((fn) => ({
    ...fn,
    schedule: String(fn.binding.schedule),
    runOnStartup: fn.binding.runOnStartup === true,
  }));
}

/**
 * Runs timer-triggered functions on their NCRONTAB schedules (six fields, seconds first, in UTC, as the
 * Functions host reads them), one run at a time per function: a run still going when the next is due
 * is skipped, as the host's singleton lock does. NOTE: the host also records past runs in storage and
 * runs a missed one late (`isPastDue`); here a schedule starts afresh with each start of the host.
 */
export class TimerTriggers {
  readonly #jobs: Cron[] = [];
  readonly #running = new Set<Promise<void>>();

  constructor(
    private readonly core: CoreApi,
    private readonly library: FunctionsLibrary,
  ) {}

  start(functions: readonly TimerFunction[]): void {
    for (const fn of functions) {
      let job: Cron;
      try {
        job = new Cron(fn.schedule, { protect: true, timezone: "UTC" }, () => this.#track(this.#invoke(fn, job)));
      } catch (error) {
        this.core.log("warning", "system", `Function ${fn.name} will not run: its schedule ${fn.schedule} is not valid (${(error as Error).message}).`);
        continue;
      }
      this.#jobs.push(job);
      if (fn.runOnStartup) void this.#track(this.#invoke(fn, job));
    }
  }

  async stop(): Promise<void> {
    for (const job of this.#jobs) job.stop();
    await Promise.all(this.#running);
  }

  #track(work: Promise<void>): Promise<void> {
    this.#running.add(work);
    return work.finally(() => this.#running.delete(work));
  }

  async #invoke(fn: TimerFunction, job: Cron): Promise<void> {
    // The run after this one: after its due time and after now. Croner may fire a hair before the second it is
    // due (then "the next run from now" would be this one), and does not always say which run this is.
    const due = new Date(Math.max(job.currentRun()?.getTime() ?? 0, Date.now()) + 1);
    const timer = {
      isPastDue: false,
      schedule: { adjustForDST: true },
      scheduleStatus: { last: (job.previousRun() ?? new Date()).toISOString(), next: job.nextRun(due)?.toISOString(), lastUpdated: new Date().toISOString() },
    };
    try {
      await invokeTriggered(this.core, this.library, fn, timer, {});
    } catch (error) {
      this.core.log("error", "user", `[${fn.name}] failed: ${(error as Error)?.message ?? String(error)}`);
    }
  }
}
