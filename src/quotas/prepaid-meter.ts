import type { ChatCompletionsBody } from "../lib/wire.js";
import type { CallerMeter, Reservation } from "./caller-meter.js";
import type { MeterTicket, ModelMeter } from "./meter.js";

const FREE: MeterTicket = { settle: () => undefined };

/**
 * A queued job's meter. Its first model call on the deployment it was submitted for uses the tokens
 * reserved at submission (admitted then, so not admitted again); later calls are admitted as any.
 * A rerun, after a worker died mid-job, is not charged at all: the job's first run was, and the runs
 * of one job are bounded (JOB_MAX_ATTEMPTS), so one job never charges its caller twice.
 */
export class PrepaidMeter implements ModelMeter {
  #reservation: Reservation | undefined;

  constructor(
    private readonly meter: CallerMeter,
    reservation: Reservation | undefined,
    private readonly rerun: boolean,
  ) {
    this.#reservation = reservation;
  }

  async admit(alias: string, body: ChatCompletionsBody, signal?: AbortSignal): Promise<MeterTicket> {
    if (this.rerun) return FREE;
    const reservation = this.#reservation;
    if (reservation?.alias === alias) {
      this.#reservation = undefined;
      return this.meter.ticketFor(reservation);
    }
    return this.meter.admit(alias, body, signal);
  }
}

/** A reservation as a job keeps it, and back; anything else read back is no reservation. */
export function reservationText(reservation: Reservation): string {
  return JSON.stringify(reservation);
}

export function reservationOf(text: string | undefined): Reservation | undefined {
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as Partial<Reservation>;
    const numbers = [value.prompt, value.reserved].every((n) => typeof n === "number" && Number.isFinite(n));
    if (typeof value.alias !== "string" || typeof value.window !== "string" || !numbers) return undefined;
    return { alias: value.alias, window: value.window, prompt: value.prompt as number, reserved: value.reserved as number };
  } catch {
    return undefined;
  }
}
