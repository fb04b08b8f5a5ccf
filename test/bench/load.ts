import { Agent, request } from "node:http";

export interface Target {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface LoadResult {
  latenciesMs: number[];
  requests: number;
  failures: number;
  elapsedMs: number;
}

const REQUEST_TIMEOUT_MS = 30_000;

/** One POST on a keep-alive agent; resolves with the time to the end of the body, or to its first byte. */
export function timedRequest(agent: Agent, target: Target, until: "end" | "first-byte" = "end"): Promise<{ ms: number; status: number }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - started) / 1e6;
    const req = request(target.url, { agent, method: "POST", headers: { ...target.headers, "content-length": Buffer.byteLength(target.body) } }, (res) => {
      const status = res.statusCode ?? 0;
      if (until === "first-byte") {
        let ms: number | undefined;
        res.once("data", () => {
          ms = elapsed();
          res.resume();
        });
        // An empty body has no first byte: its end stands in.
        res.on("end", () => resolve({ ms: ms ?? elapsed(), status }));
      } else {
        res.resume();
        res.on("end", () => resolve({ ms: elapsed(), status }));
      }
      res.on("error", reject);
    });
    req.on("error", reject);
    // A proxy that never answers (a compared one, say) is a failure, not a bench that never ends.
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer from ${target.url} in ${REQUEST_TIMEOUT_MS / 1000} s`)));
    req.end(target.body);
  });
}

/** `concurrency` workers send requests back to back until `total` have been sent. */
export async function runLoad(target: Target, options: { concurrency: number; total: number; until?: "end" | "first-byte" }): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const latenciesMs: number[] = [];
  let sent = 0;
  let failures = 0;
  const started = process.hrtime.bigint();
  const worker = async () => {
    while (sent < options.total) {
      sent++;
      const { ms, status } = await timedRequest(agent, target, options.until);
      if (status === 200) latenciesMs.push(ms);
      else failures++;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  agent.destroy();
  return { latenciesMs, requests: options.total, failures, elapsedMs };
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
