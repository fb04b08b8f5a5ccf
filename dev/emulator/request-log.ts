import type { IncomingHttpHeaders } from "node:http";

export interface LoggedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: unknown;
  time: string;
  outcome: { status?: number; fault?: string; stream?: boolean; chunks?: number; done?: boolean; closed_early?: boolean };
}

const SECRET_HEADERS = new Set(["api-key", "authorization"]);
const MAX_ENTRIES = 1000;

/** What the emulator received, newest last, with credentials redacted; bounded so a bench cannot exhaust memory. */
export class RequestLog {
  #entries: LoggedRequest[] = [];

  record(method: string, url: URL, headers: IncomingHttpHeaders): LoggedRequest {
    const entry: LoggedRequest = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: redact(headers),
      body: undefined,
      time: new Date().toISOString(),
      outcome: {},
    };
    this.#entries.push(entry);
    if (this.#entries.length > MAX_ENTRIES) this.#entries.shift();
    return entry;
  }

  entries(): readonly LoggedRequest[] {
    return this.#entries;
  }

  clear(): void {
    this.#entries = [];
  }
}

function redact(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name] = SECRET_HEADERS.has(name) ? "[redacted]" : Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}
