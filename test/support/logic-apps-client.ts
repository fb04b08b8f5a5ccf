import { setTimeout as sleep } from "node:timers/promises";

/**
 * A client that behaves as the Logic Apps HTTP action documents: each request times out after 120 s
 * (Consumption); a timeout, 408, 429 or 5xx is retried up to 4 times at exponential intervals (7.5 s
 * scaled by 2^n, with ±20 % jitter, between 5 and 45 s; a 429's Retry-After when it sends one); and a
 * 202 with `Location` is followed as the asynchronous pattern says: GET `Location` after `Retry-After`,
 * with the same retries, until an answer is not a 202, which becomes the action's outcome.
 */
export interface ActionOptions {
  timeoutMs?: number;
  retries?: number;
  intervalMs?: number;
  minIntervalMs?: number;
  maxIntervalMs?: number;
}

export interface ActionOutcome {
  status: number;
  headers: Headers;
  body: any;
  /** Every request the action sent, in order: method, URL and what came back (a status or "timeout"). */
  sent: { method: string; url: string; outcome: number | "timeout" | "error" }[];
}

export async function runHttpAction(
  request: { method: string; url: string; headers: Record<string, string>; body?: unknown },
  options: ActionOptions = {},
): Promise<ActionOutcome> {
  const settings = { timeoutMs: 120_000, retries: 4, intervalMs: 7_500, minIntervalMs: 5_000, maxIntervalMs: 45_000, ...options };
  const sent: ActionOutcome["sent"] = [];
  let response = await withRetries(request, settings, sent);
  while (response.status === 202 && response.headers.get("location")) {
    const location = response.headers.get("location") as string;
    const retryAfter = Number(response.headers.get("retry-after") ?? "5");
    await sleep(Number.isFinite(retryAfter) ? retryAfter * 1000 : 5_000);
    response = await withRetries({ method: "GET", url: location, headers: request.headers }, settings, sent);
  }
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined, sent };
}

async function withRetries(
  request: { method: string; url: string; headers: Record<string, string>; body?: unknown },
  settings: Required<ActionOptions>,
  sent: ActionOutcome["sent"],
): Promise<Response> {
  for (let retry = 0; ; retry++) {
    let response: Response | undefined;
    let wait: number;
    try {
      response = await fetch(request.url, {
        method: request.method,
        headers: { ...request.headers, ...(request.body !== undefined ? { "content-type": "application/json" } : {}) },
        ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
        signal: AbortSignal.timeout(settings.timeoutMs),
      });
      sent.push({ method: request.method, url: request.url, outcome: response.status });
      const retryable = response.status === 408 || response.status === 429 || response.status >= 500;
      if (!retryable || retry >= settings.retries) return response;
      await response.arrayBuffer();
      const retryAfter = Number(response.headers.get("retry-after"));
      wait = response.status === 429 && retryAfter > 0 ? retryAfter * 1000 : interval(retry, settings);
    } catch (error) {
      const timedOut = (error as Error).name === "TimeoutError";
      sent.push({ method: request.method, url: request.url, outcome: timedOut ? "timeout" : "error" });
      if (retry >= settings.retries) throw error;
      wait = interval(retry, settings);
    }
    await sleep(wait);
  }
}

function interval(retry: number, settings: Required<ActionOptions>): number {
  const scaled = settings.intervalMs * 2 ** retry * (0.8 + Math.random() * 0.4);
  return Math.min(settings.maxIntervalMs, Math.max(settings.minIntervalMs, scaled));
}
