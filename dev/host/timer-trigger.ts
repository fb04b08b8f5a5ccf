import { randomUUID } from "node:crypto";
import { Cron } from "croner";
import type { CoreApi, Registration, RpcBindingInfo } from "./core-api.js";
import type { FunctionsLibrary } from "./direct-invoker.js";

/** A registered function with a timer trigger. */
interface TimerFunction {
  name: string;
  /** An NCRONTAB expression: `{second} {minute} {hour} {day} {month} {day-of-week}`. */
  schedule: string;
  runOnStartup: boolean;
  trigger: RpcBindingInfo & { name: string };
  registration: Registration;
}

export function timerFunctions(core: CoreApi): TimerFunction[] {
  return core.registrations.flatMap((registration) => {
    const found = Object.entries(registration.metadata.bindings).find(([, b]) => b.type?.toLowerCase() === "timertrigger");
    if (!found) return [];
    const [name, binding] = found;
    const options = binding as RpcBindingInfo & { schedule?: unknown; runOnStartup?: unknown };
    return [
      {
        name: registration.metadata.name,
        schedule: String(options.schedule),
        runOnStartup: options.runOnStartup === true,
        trigger: { ...binding, name },
        registration,
      },
    ];
  });
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
    const timer = {
      isPastDue: false,
      schedule: { adjustForDST: true },
      scheduleStatus: { last: (job.previousRun() ?? new Date()).toISOString(), next: job.nextRun()?.toISOString(), lastUpdated: new Date().toISOString() },
    };
    const context = new this.library.InvocationContext({
      invocationId: randomUUID(),
      functionName: fn.name,
      triggerMetadata: {},
      options: { trigger: fn.trigger, extraInputs: [], extraOutputs: [] },
      logHandler: (level: string, ...args: unknown[]) => this.core.log(level as never, "user", `[${fn.name}] ${args.map(String).join(" ")}`),
    });
    try {
      await this.core.invoke(fn.registration.callback, context, [timer]);
    } catch (error) {
      this.core.log("error", "user", `[${fn.name}] failed: ${(error as Error)?.message ?? String(error)}`);
    }
  }
}
