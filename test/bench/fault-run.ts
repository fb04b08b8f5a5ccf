import { Agent, request } from "node:http";
import type { Service } from "../../dev/stack/processes.js";
import { inspectorUrl, type LiveMemory, liveMemoryAfterGc } from "./heap-probe.js";
import { settledResidentMiB } from "./process-stats.js";
import { emulatorSettings, hostSettings, printTable, startEmulatorService, startHost } from "./services.js";
import { startAzurite } from "./variants.js";

/**
 * `npm run bench -- --faults`: many concurrent streams through /api/chat/stream while the emulator
 * injects faults into a share of them. Every stream must end with exactly one terminal event, no
 * request may use more attempts than the retry limit allows, the host must log no unhandled
 * rejection, and its memory must come back near its baseline.
 */
const STREAMS = 200;
const ROUNDS = Number(process.argv[process.argv.indexOf("--rounds") + 1] ?? 0) || 3;
const FAULT_SHARE = 0.05;
const MAX_RETRIES = 2;
const FAULTS = [
  { status: 500 },
  { status: 503, headers: { "retry-after": "1" } },
  { reset_after_chunks: 3 },
  { stall_after_chunks: 2 },
  { malformed_chunk: 2 },
  { omit_done: true },
  { no_response: true },
  { empty_choices_chunk: true },
];

const body = JSON.stringify({
  messages: [
    { role: "system", content: "You are a helpful assistant." },
    { role: "user", content: "How many languages are in the world?" },
  ],
});

export async function faultRun(): Promise<void> {
  const services: Service[] = [];
  const azurite = await startAzurite();
  try {
    const emulator = await startEmulatorService();
    services.push(emulator.service);
    const settings = {
      ...hostSettings(emulator.url, azurite.connectionString),
      MODEL_MAX_RETRIES: String(MAX_RETRIES),
      MODEL_RETRY_BASE_DELAY_MS: "50",
      MODEL_ATTEMPT_TIMEOUT_MS: "2000",
      MODEL_IDLE_TIMEOUT_MS: "1000",
      BREAKER_FAILURES: "1000",
      // For the live-heap figure: the bench asks the host's inspector to collect garbage and report.
      NODE_OPTIONS: "--inspect=127.0.0.1:0",
    };
    const { service: host, url } = await startHost(settings);
    services.push(host);
    const pid = host.child.pid as number;

    // Round 1 warms the host up (JIT, pools, heap); memory is compared between the end of round 1 and
    // the end of the last round, each read once the host has been idle a few seconds, so growth means
    // something kept, not a heap that has not been given back yet.
    const faultCount = Math.round(STREAMS * FAULT_SHARE);
    let baselineMiB = 0;
    let baselineHeap: LiveMemory | undefined;
    const inspector = inspectorUrl(host.output());
    let last: RoundResult | undefined;
    for (let round = 1; round <= ROUNDS; round++) {
      last = await runRound(url, emulator.url, faultCount);
      if (round === 1) {
        // The collection first: it is what returns V8's spare pages, which idle time alone does
        // only when V8 gets round to it (seconds or minutes).
        if (inspector) baselineHeap = await liveMemoryAfterGc(inspector);
        baselineMiB = await settledResidentMiB(pid);
      }
    }
    const { results, upstream, elapsed } = last as RoundResult;
    const afterHeap = inspector ? await liveMemoryAfterGc(inspector) : undefined;
    const afterMiB = await settledResidentMiB(pid);
    const bad = results.filter((r) => r.terminals !== 1 || !r.endsWithTerminal);
    const errors = results.filter((r) => r.lastEvent === "error").length;
    const unhandled = /unhandled/i.test(host.output());

    printTable(
      ["figure", "value"],
      [
        ["streams (faults injected)", `${STREAMS} (${faultCount})`],
        ["streams ending with exactly one terminal event", `${STREAMS - bad.length} of ${STREAMS}`],
        ["streams ending in an error event", String(errors)],
        ["upstream attempts (limit: streams x (1 + retries))", `${upstream} (limit ${STREAMS * (1 + MAX_RETRIES)})`],
        ["unhandled rejections in the host's log", unhandled ? "yes" : "none"],
        [
          `host resident memory after round 1 / after round ${ROUNDS}`,
          `${baselineMiB.toFixed(0)} MiB / ${afterMiB.toFixed(0)} MiB (${change(baselineMiB, afterMiB)})`,
        ],
        [
          `host live heap after GC, round 1 / round ${ROUNDS} (external)`,
          baselineHeap && afterHeap
            ? `${baselineHeap.heapUsedMiB.toFixed(1)} MiB / ${afterHeap.heapUsedMiB.toFixed(1)} MiB (${change(baselineHeap.heapUsedMiB, afterHeap.heapUsedMiB)}; external ${baselineHeap.externalMiB.toFixed(1)} / ${afterHeap.externalMiB.toFixed(1)} MiB)`
            : "inspector not reachable",
        ],
        ["wall time of the last round", `${elapsed} ms`],
      ],
    );
    if (bad.length > 0 || unhandled || upstream > STREAMS * (1 + MAX_RETRIES)) process.exitCode = 1;
  } finally {
    await Promise.all(services.map((s) => s.stop()));
    await azurite.stop();
  }
}

interface RoundResult {
  results: StreamOutcome[];
  upstream: number;
  elapsed: number;
}

/** One round: faults queued for a share of the streams, then every stream at once. */
async function runRound(url: string, emulatorUrl: string, faultCount: number): Promise<RoundResult> {
  await fetch(`${emulatorUrl}/_emulator/reset`, { method: "POST" });
  await emulatorSettings(emulatorUrl, { ttft_ms: 0, token_delay_ms: 5, requests_per_minute: 1e9, tokens_per_minute: 1e12 });
  const faults = Array.from({ length: faultCount }, (_, i) => FAULTS[i % FAULTS.length]);
  await fetch(`${emulatorUrl}/_emulator/faults`, { method: "POST", body: JSON.stringify({ faults }) });
  const started = Date.now();
  const results = await Promise.all(Array.from({ length: STREAMS }, () => oneStream(url)));
  const elapsed = Date.now() - started;
  const upstream = ((await (await fetch(`${emulatorUrl}/_emulator/requests`)).json()) as { requests: unknown[] }).requests.length;
  return { results, upstream, elapsed };
}

interface StreamOutcome {
  terminals: number;
  endsWithTerminal: boolean;
  lastEvent: string | undefined;
}

/** One stream, counting its terminal events; a plain HTTP error (before the stream) counts as one. */
function oneStream(url: string): Promise<StreamOutcome> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/api/chat/stream`,
      { method: "POST", agent: new Agent({ keepAlive: false }), headers: { "api-key": "dev-key", "content-type": "application/json" } },
      (res) => {
        let text = "";
        res.on("data", (d: Buffer) => (text += d.toString()));
        res.on("end", () => {
          if (res.statusCode !== 200) return resolve({ terminals: 1, endsWithTerminal: true, lastEvent: `http ${res.statusCode}` });
          const events = [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
          const terminals = events.filter((e) => e === "done" || e === "error").length;
          const last = events.at(-1);
          resolve({ terminals, endsWithTerminal: last === "done" || last === "error", lastEvent: last });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

function change(before: number, after: number): string {
  const percent = ((after - before) / before) * 100;
  return `${percent >= 0 ? "+" : ""}${percent.toFixed(1)}%`;
}
