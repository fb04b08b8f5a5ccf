type HeaderGetter = (name: string) => string | undefined;

/**
 * How long the upstream asked us to wait, in milliseconds: `retry-after-ms` (Azure's, most precise),
 * then `x-ms-retry-after-ms`, then `Retry-After` in seconds or as an HTTP date.
 */
export function retryAfterMs(header: HeaderGetter, now: number = Date.now()): number | undefined {
  for (const name of ["retry-after-ms", "x-ms-retry-after-ms"]) {
    const ms = Number(header(name));
    if (header(name) !== undefined && Number.isFinite(ms) && ms >= 0) return Math.ceil(ms);
  }
  const retryAfter = header("retry-after")?.trim();
  if (!retryAfter) return undefined;
  if (/^\d+(\.\d+)?$/.test(retryAfter)) return Math.ceil(Number(retryAfter) * 1000);
  const date = Date.parse(retryAfter);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
