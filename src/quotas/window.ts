/**
 * Quota windows are fixed UTC minutes, named by their minute stamp `YYYYMMDDHHmm` (e.g.
 * `202611261155` for 11:55 to 11:56 UTC on 26 Nov 2026). The stamp has a fixed width, so string
 * order is time order: clean-up asks the table for every partition below a stamp.
 */
export const WINDOW_MS = 60_000;

const STAMP = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})$/;

/** The window that `nowMs` (epoch milliseconds) falls in. */
export function windowOf(nowMs: number): string {
  const date = new Date(nowMs);
  const year = date.getUTCFullYear();
  if (Number.isNaN(year) || year < 1000 || year > 9999) throw new RangeError("The time is outside the years 1000 to 9999.");
  const two = (n: number) => String(n).padStart(2, "0");
  return `${year}${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}${two(date.getUTCHours())}${two(date.getUTCMinutes())}`;
}

/** When `window` starts (epoch milliseconds); a stamp that names no real minute is a RangeError. */
export function windowStartMs(window: string): number {
  const match = STAMP.exec(window);
  if (match) {
    const [, year, month, day, hour, minute] = match.map(Number) as [number, number, number, number, number, number];
    const ms = Date.UTC(year, month - 1, day, hour, minute);
    // Date.UTC rolls month 13, day 32, hour 24 or minute 60 over; only a real minute round-trips.
    if (year >= 1000 && windowOf(ms) === window) return ms;
  }
  throw new RangeError("A quota window is a UTC minute stamp YYYYMMDDHHmm.");
}

/** When `window` ends, exclusive. */
export function windowEndMs(window: string): number {
  return windowStartMs(window) + WINDOW_MS;
}

/**
 * Whole seconds from `nowMs` until `window` ends, rounded up and held to 1..60: a refused caller
 * may retry when the next window opens, and `Retry-After: 0` would invite a busy loop.
 */
export function retryAfterSeconds(window: string, nowMs: number): number {
  const seconds = Math.ceil((windowEndMs(window) - nowMs) / 1000);
  return Math.min(WINDOW_MS / 1000, Math.max(1, seconds));
}
