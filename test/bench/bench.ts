import { mkdtemp, rm } from "node:fs/promises";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { freePort, type Service, spawnService, waitUntilReady } from "../../dev/stack/processes.js";
import { faultRun } from "./fault-run.js";
import { jobsLoadRows, jobsRun, measureJobsLoad } from "./jobs-run.js";
import { type LoadResult, percentile, runLoad, type Target, timedRequest } from "./load.js";
import { cpuTimeMs, residentMiB } from "./process-stats.js";
import { appRoot, emulatorSettings, hostSettings, printTable, startEmulatorService, startHost } from "./services.js";
import { quotasVariant, telemetryVariant, type Variant } from "./variants.js";

/**
 * `npm run bench`: the drop-in route through the local functions host against the model emulator
 * directly, on this machine. Each service runs in its own process; the load comes from this one.
 * Options: --quick (fewer requests, for a smoke run), --streams N (open streams for the memory figure),
 * --compare URL (the same scenarios through a second proxy: see compareTarget), --emulator-port N,
 * --faults (the fault run instead: see fault-run.ts), --jobs (the jobs' load run alone: see jobs-run.ts).
 *
 * The headline is the configuration people deploy, quotas on (counters in an Azurite of the bench's
 * own, limits far above the load); beside it quotas off (the proxy's own cost) and telemetry on as
 * well (a local ingestion endpoint), each measured the same way against the same emulator, so what a
 * feature costs is the difference between two columns.
 */
const args = process.argv.slice(2);
const option = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const quick = args.includes("--quick");
const openStreamCount = quick ? 100 : Number(option("--streams") ?? 0) || 1000;
/** Start-ups of each configuration: their median is the figure. */
const starts = quick ? 3 : 7;
const scale = quick ? 0.1 : 1;
const n = (count: number) => Math.max(50, Math.round(count * scale));

const chatBody = JSON.stringify({
  messages: [
    { role: "system", content: "You are a helpful assistant." },
    { role: "user", content: "How many languages are in the world?" },
  ],
});
/** A short answer: the first-byte figure needs the first token, not the whole stream. */
const shortStream = { stream: true, max_tokens: 3 };
/** A full answer, paced slowly by the emulator, holds a stream open for the memory figure. */
const longStream = { stream: true };
/** The target's request with `fields` added to its body: a compared proxy keeps the `model` it was given. */
const withFields = (target: Target, fields: Record<string, unknown>): Target => ({
  ...target,
  body: JSON.stringify({ ...JSON.parse(target.body), ...fields }),
});

/** The figures measured for each configuration of the app, and for a compared proxy. */
interface Figures {
  c1Direct: LoadResult;
  c1Proxied: LoadResult;
  /** Every round's requests at concurrency 50, for the latencies; throughput is the median round's. */
  c50Proxied: LoadResult;
  c50PerSecond: number;
  /** Undefined for a compared proxy without --compare-pid. */
  cpuPerRequest?: number;
  ttfbDirect: LoadResult;
  ttfbProxied: LoadResult;
  /** The app's configurations only: a compared proxy is not started by the bench. */
  startupMs?: number;
  firstAnswerMs?: number;
  streaming: { result: LoadResult; perSecond: number; cpuMs: number | undefined };
  memory?: { streams: number; idleMiB: number; openMiB: number };
}

async function main(): Promise<void> {
  const services: Service[] = [];
  const variants: Variant[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  try {
    const emulator = await startEmulatorService(option("--emulator-port") ? Number(option("--emulator-port")) : undefined);
    services.push(emulator.service);
    const emulatorUrl = emulator.url;
    const direct: Target = {
      url: `${emulatorUrl}/mistral-large/chat/completions`,
      headers: { "content-type": "application/json", "api-key": "emulator-key" },
      body: chatBody,
    };
    const proxied: Target = { url: "http://app/api/chat/completions", headers: { "content-type": "application/json", "api-key": "dev-key" }, body: chatBody };
    await runLoad(direct, { concurrency: 8, total: n(2000) });
    const c50Direct = await runLoad(direct, { concurrency: 50, total: n(20000) });

    // The app as azd deploys it: the staged package (of the build `npm run bench` just made).
    const { stagePackage } = (await import(
      pathToFileURL(join(appRoot, "hooks", "prepackage.mjs")).href
    )) as typeof import("../../hooks/prepackage.mjs", { with: { "resolution-mode": "import" }});
    const deployed = await stagePackage({ projectDir: appRoot, outDir: await mkdtemp(join(tmpdir(), "bench-package-")), run: () => undefined });
    cleanups.push(() => rm(deployed, { recursive: true, force: true }));
    const quotas = await quotasVariant();
    variants.push(quotas);
    // Every column with the same storage account, as a deployed app always has one; quotas off leaves it unused by quotas.
    const base = hostSettings(emulatorUrl, quotas.settings.AzureWebJobsStorage as string);
    const telemetry = await telemetryVariant();
    variants.push(telemetry);
    const configurations: Array<[string, Record<string, string>]> = [
      ["quotas on (default)", { ...base, ...quotas.settings }],
      ["quotas off", { ...base, QUOTAS: "off" }],
      ["telemetry on too", { ...base, ...quotas.settings, ...telemetry.settings }],
    ];
    // Process-level figures first, each from fresh hosts; then a host per configuration (and the
    // compared proxy), put through the scenarios together.
    const processFigures: Array<Pick<Figures, "startupMs" | "firstAnswerMs">> = [];
    for (const [, settings] of configurations) processFigures.push(await startUpFigures(settings, deployed, proxied));
    const subjects: Subject[] = [];
    for (const [, settings] of configurations) {
      const { service, url } = await startHost(settings, deployed);
      services.push(service);
      subjects.push({ target: at(proxied, url), pid: service.child.pid as number, compared: false });
    }
    const compared = option("--compare");
    if (compared)
      subjects.push({ target: compareTarget(compared), pid: option("--compare-pid") ? Number(option("--compare-pid")) : undefined, compared: true });
    const measured = await measureSubjects(subjects, direct);
    const columns: Array<[string, Figures]> = measured.map((figures, i) => [
      configurations[i]?.[0] ?? `--compare ${new URL(compared as string).host}`,
      { ...figures, ...processFigures[i] },
    ]);
    for (const { pid, compared } of subjects) if (!compared) await services.find((service) => service.child.pid === pid)?.stop();

    const floors = { node: await measureFloor("node", emulatorUrl, direct), platform: await measureFloor("platform", emulatorUrl, direct) };
    const jobs = await measureJobsLoad(quick ? 50 : 200);

    printTable(
      ["figure", ...columns.map(([name]) => name)],
      [
        ...figureRows(
          columns.map(([, figures]) => figures),
          c50Direct,
        ),
        [`requests per second, concurrency 50, emulator alone`, rps(c50Direct)],
      ],
    );
    printTable(["figure (quotas on)", "value"], jobsLoadRows(jobs));
    printTable(
      ["floor", "value"],
      [
        ["bare Node proxy (http + undici): added latency p50, concurrency 1", ms(added(floors.node.c1Proxied, floors.node.c1Direct, 50))],
        ["bare Node proxy: CPU per request, concurrency 50", ms(floors.node.cpuPerRequest)],
        ["+ Functions request objects + model SDK: added latency p50, concurrency 1", ms(added(floors.platform.c1Proxied, floors.platform.c1Direct, 50))],
        ["+ Functions request objects + model SDK: CPU per request, concurrency 50", ms(floors.platform.cpuPerRequest)],
      ],
    );
    const direct50 = percentile(columns[0]?.[1].c1Direct.latenciesMs ?? [], 50);
    console.log(`\nDirect to the emulator: p50 ${ms(direct50)} at concurrency 1. ${quick ? "Quick run: figures are rough." : ""}`);
  } finally {
    await Promise.all(services.map((s) => s.stop()));
    await Promise.all(variants.map((v) => v.stop()));
    await Promise.all(cleanups.map((cleanup) => cleanup()));
  }
}

/** The headline table's rows: one per figure, a column per configuration (and compared proxy). */
function figureRows(columns: Figures[], c50Direct: LoadResult): string[][] {
  const row = (name: string, value: (f: Figures) => string) => [name, ...columns.map(value)];
  // A figure from requests that did not all succeed would mislead: say how many failed instead.
  const failed = (...results: LoadResult[]) => {
    const failures = results.reduce((sum, r) => sum + r.failures, 0);
    return failures > 0 ? `n/a (${failures} of ${results.reduce((sum, r) => sum + r.requests, 0)} failed)` : undefined;
  };
  return [
    row("added latency p50, concurrency 1", (f) => failed(f.c1Proxied) ?? ms(added(f.c1Proxied, f.c1Direct, 50))),
    row("added latency p99, concurrency 1", (f) => failed(f.c1Proxied) ?? ms(added(f.c1Proxied, f.c1Direct, 99))),
    row("added latency p50, concurrency 50", (f) => failed(f.c50Proxied) ?? ms(added(f.c50Proxied, c50Direct, 50))),
    row("added latency p99, concurrency 50", (f) => failed(f.c50Proxied) ?? ms(added(f.c50Proxied, c50Direct, 99))),
    row(`requests per second, concurrency 50 (median of ${ROUNDS} rounds)`, (f) => failed(f.c50Proxied) ?? f.c50PerSecond.toFixed(0)),
    row(
      `CPU per request, concurrency 50 (median of ${ROUNDS} rounds)`,
      (f) => failed(f.c50Proxied) ?? (f.cpuPerRequest === undefined ? "-" : ms(f.cpuPerRequest)),
    ),
    row("added time to first byte of a stream, p50", (f) => failed(f.ttfbProxied) ?? ms(added(f.ttfbProxied, f.ttfbDirect, 50))),
    row("start-up, process start to first 200 (median)", (f) => (f.startupMs === undefined ? "-" : `${f.startupMs.toFixed(0)} ms`)),
    row("process start to first chat completion (median)", (f) => (f.firstAnswerMs === undefined ? "-" : `${f.firstAnswerMs.toFixed(0)} ms`)),
    row(
      `CPU per streamed request (3 tokens), concurrency 50 (median of ${ROUNDS} rounds)`,
      (f) => failed(f.streaming.result) ?? `${f.streaming.cpuMs === undefined ? "-" : ms(f.streaming.cpuMs)} (${f.streaming.perSecond.toFixed(0)} streams/s)`,
    ),
    row(`resident memory with ${openStreamCount} open streams (idle)`, (f) =>
      f.memory ? `${f.memory.openMiB.toFixed(0)} MiB (${f.memory.idleMiB.toFixed(0)} MiB)` : "-",
    ),
  ];
}

/**
 * Process start to the first 200 and to the first chat completion, each the median of fresh hosts,
 * after a host of this configuration has served a while: Azurite (the quota store) answers as a warm
 * service does, and the package's files are in the page cache, as on a second start.
 */
async function startUpFigures(settings: Record<string, string>, appDir: string, proxied: Target): Promise<Pick<Figures, "startupMs" | "firstAnswerMs">> {
  const { service, url } = await startHost(settings, appDir);
  await runLoad(at(proxied, url), { concurrency: 8, total: n(1000) });
  await service.stop();
  const startups: number[] = [];
  const firstAnswers: number[] = [];
  for (let i = 0; i < starts; i++) {
    const { service, ms } = await startHost(settings, appDir);
    startups.push(ms);
    await service.stop();
  }
  for (let i = 0; i < starts; i++) firstAnswers.push(await firstAnswerAfterStart(settings, appDir, proxied));
  return { startupMs: percentile(startups, 50), firstAnswerMs: percentile(firstAnswers, 50) };
}

/** A proxy the scenarios are run through: a host of the app's, or the compared proxy (its CPU when its process id is known). */
interface Subject {
  target: Target;
  pid: number | undefined;
  compared: boolean;
}

/** Rounds of each scenario, going round the subjects in turn, so drift in the machine hits them alike. */
const ROUNDS = 3;

/**
 * The scenarios for every subject: concurrency 1 (alternating with the emulator), 50 (CPU from
 * /proc), short streams at 50, a stream's first byte, and memory with streams held open. Each is
 * run in rounds that go round the subjects, rather than one subject after another: the columns are
 * compared with each other, and a machine that slows for a while slows all of them.
 */
async function measureSubjects(subjects: Subject[], direct: Target): Promise<Figures[]> {
  const emulatorUrl = emulatorUrlOf(direct);
  const streamed = (target: Target) => withFields(target, shortStream);
  // Warm each path (JIT, keep-alive sockets, upstream connection pool, quota leases).
  for (const { target } of subjects) await runLoad(target, { concurrency: 8, total: n(2000) });
  const c1 = await inRounds(subjects, (subject) => alternating(direct, subject.target, Math.round(n(3000) / ROUNDS)));
  const c50 = await inRounds(subjects, (subject) => cpuRound(subject, subject.target));
  const streams = await inRounds(subjects, (subject) => cpuRound(subject, streamed(subject.target)));
  // Tokens paced as a model paces them, so the first one travels alone, as it does in production;
  // with no pacing at all the whole answer arrives in one read and is relayed as one burst.
  await emulatorSettings(emulatorUrl, { token_delay_ms: 5 });
  const ttfb = await inRounds(subjects, (subject) => alternating(streamed(direct), streamed(subject.target), Math.round(n(600) / ROUNDS), "first-byte"));
  await emulatorSettings(emulatorUrl, { token_delay_ms: 0 });
  const figures: Figures[] = [];
  for (const [i, subject] of subjects.entries()) {
    const [c1Direct, c1Proxied] = mergedPairs(c1[i] ?? []);
    const [ttfbDirect, ttfbProxied] = mergedPairs(ttfb[i] ?? []);
    const cpu = summary(c50[i] ?? []);
    const streaming = summary(streams[i] ?? []);
    const measured = {
      c1Direct,
      c1Proxied,
      c50Proxied: cpu.result,
      c50PerSecond: cpu.perSecond,
      cpuPerRequest: cpu.cpuMs,
      ttfbDirect,
      ttfbProxied,
      streaming,
      memory: subject.pid === undefined ? undefined : await memoryAfterStreams(subject, emulatorUrl),
    };
    // The app must answer everything; a compared proxy's failures are shown in its column instead.
    for (const [name, result] of Object.entries({ c1: c1Proxied, c50: cpu.result, streams: streaming.result, ttfb: ttfbProxied })) {
      if (result.failures > 0 && !subject.compared) throw new Error(`${subject.target.url}, ${name}: ${result.failures} of ${result.requests} requests failed`);
    }
    figures.push(measured);
  }
  return figures;
}

/**
 * Memory with streams held open, read right after a round of short streams (as a host that has been
 * busy): a host idle for a while has had its heap shrunk, and would read lower than one in use.
 */
async function memoryAfterStreams(subject: Subject, emulatorUrl: string) {
  await runLoad(withFields(subject.target, shortStream), { concurrency: 50, total: n(8000) });
  return openStreamsMemory(emulatorUrl, subject.target, subject.pid as number, openStreamCount);
}

/**
 * `run` for each subject, ROUNDS times over: results by subject, in round order. The other subjects
 * whose process is known are paused (SIGSTOP) meanwhile, so that one's work in the background
 * (telemetry's exports after its round, a lease given back) is not counted in another's figures.
 */
async function inRounds<T>(subjects: Subject[], run: (subject: Subject) => Promise<T>): Promise<T[][]> {
  const results: T[][] = subjects.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    // Every other round in reverse, so no subject always follows the same one.
    const order = [...subjects.entries()];
    if (round % 2 === 1) order.reverse();
    for (const [i, subject] of order) {
      // The compared proxy too, when its process is known: each subject is measured with the rest paused.
      const others = subjects.filter((other) => other !== subject && other.pid !== undefined).map((other) => other.pid as number);
      for (const pid of others) process.kill(pid, "SIGSTOP");
      try {
        // A host just resumed has timers due and, with quotas on, leases given back while it was
        // paused: a few requests first, so the round measures it serving, as the others are.
        await runLoad(withFields(subject.target, { max_tokens: 1 }), { concurrency: 8, total: 200 });
        results[i]?.push(await run(subject));
      } finally {
        for (const pid of others) process.kill(pid, "SIGCONT");
      }
    }
  }
  return results;
}

/** One round at concurrency 50, and the subject's CPU per request over it when its process is known. */
async function cpuRound(subject: Subject, target: Target): Promise<{ result: LoadResult; cpuMs: number | undefined }> {
  const cpuBefore = subject.pid === undefined ? 0 : cpuTimeMs(subject.pid);
  const result = await runLoad(target, { concurrency: 50, total: n(8000) });
  return { result, cpuMs: subject.pid === undefined ? undefined : (cpuTimeMs(subject.pid) - cpuBefore) / result.requests };
}

/**
 * Rounds at concurrency 50 as figures: every request for the latencies, and the median round's
 * throughput and CPU per request, each on its own (one round can catch the machine busy elsewhere).
 */
function summary(rounds: Array<{ result: LoadResult; cpuMs: number | undefined }>): { result: LoadResult; perSecond: number; cpuMs: number | undefined } {
  const cpu = rounds.flatMap((round) => (round.cpuMs === undefined ? [] : [round.cpuMs]));
  return {
    result: merged(rounds.map((round) => round.result)),
    perSecond: percentile(
      rounds.map((round) => perSecond(round.result)),
      50,
    ),
    cpuMs: cpu.length > 0 ? percentile(cpu, 50) : undefined,
  };
}

/** Rounds of alternating pairs as one pair: every round's direct results, and every round's proxied ones. */
function mergedPairs(rounds: Array<[LoadResult, LoadResult]>): [LoadResult, LoadResult] {
  return [merged(rounds.map(([direct]) => direct)), merged(rounds.map(([, proxied]) => proxied))];
}

/** Several runs' results as one. */
function merged(results: LoadResult[]): LoadResult {
  return {
    latenciesMs: results.flatMap((r) => r.latenciesMs),
    requests: results.reduce((sum, r) => sum + r.requests, 0),
    failures: results.reduce((sum, r) => sum + r.failures, 0),
    elapsedMs: results.reduce((sum, r) => sum + r.elapsedMs, 0),
  };
}

/**
 * `--compare URL`: the other proxy's chat completions URL, sent the same OpenAI-shaped body, with
 * `--compare-model NAME` added as `model` when the proxy needs one and each `--compare-header
 * "name: value"` (a key, say) as a header.
 */
function compareTarget(url: string): Target {
  const headers: Record<string, string> = { "content-type": "application/json" };
  args.forEach((arg, i) => {
    if (arg !== "--compare-header") return;
    const [name = "", ...value] = (args[i + 1] ?? "").split(":");
    headers[name.trim().toLowerCase()] = value.join(":").trim();
  });
  const model = option("--compare-model");
  return { url, headers, body: model ? JSON.stringify({ ...JSON.parse(chatBody), model }) : chatBody };
}

const emulatorUrlOf = (direct: Target) => new URL(direct.url).origin;

/**
 * What a proxy of this route costs at the least (see floor-proxy.ts), measured as the main figures
 * are: the app's own share is its figure less the platform floor.
 */
async function measureFloor(mode: "node" | "platform", emulatorUrl: string, direct: Target) {
  const port = await freePort();
  const service = spawnService("floor", [resolve(appRoot, "dist/test/bench/floor-proxy.js")], {
    env: { PATH: process.env.PATH ?? "", PORT: String(port), FLOOR_MODE: mode, FLOOR_ENDPOINT: `${emulatorUrl}/mistral-large`, FLOOR_KEY: "emulator-key" },
    echo: false,
    cwd: appRoot,
  });
  try {
    await waitUntilReady(service, async () => service.output().includes("listening"));
    const target = { ...direct, url: `http://127.0.0.1:${port}/chat/completions`, headers: { "content-type": "application/json" } };
    await runLoad(target, { concurrency: 8, total: n(2000) });
    const [c1Direct, c1Proxied] = await alternating(direct, target, n(1500));
    if (c1Proxied.failures > 0) throw new Error(`floor ${mode}: ${c1Proxied.failures} requests failed`);
    const floor: Subject = { target, pid: service.child.pid as number, compared: false };
    const { cpuMs } = summary((await inRounds([floor], (subject) => cpuRound(subject, subject.target))).flat());
    if (cpuMs === undefined) throw new Error(`floor ${mode}: no CPU figure`);
    return { c1Direct, c1Proxied, cpuPerRequest: cpuMs };
  } finally {
    await service.stop();
  }
}

/** Requests at concurrency 1, alternating between the two targets so drift in the machine hits both alike. */
async function alternating(a: Target, b: Target, total: number, until: "end" | "first-byte" = "end"): Promise<[LoadResult, LoadResult]> {
  const agents = [new Agent({ keepAlive: true, maxSockets: 1 }), new Agent({ keepAlive: true, maxSockets: 1 })] as const;
  const results: [LoadResult, LoadResult] = [
    { latenciesMs: [], requests: 0, failures: 0, elapsedMs: 0 },
    { latenciesMs: [], requests: 0, failures: 0, elapsedMs: 0 },
  ];
  for (let i = 0; i < total * 2; i++) {
    const which = (i % 2) as 0 | 1;
    const { ms, status } = await timedRequest(agents[which], which === 0 ? a : b, until);
    const result = results[which];
    result.requests++;
    result.elapsedMs += ms;
    if (status === 200) result.latenciesMs.push(ms);
    else result.failures++;
  }
  for (const agent of agents) agent.destroy();
  return results;
}

/** Process start to the first chat completion: start-up plus loading the model SDK on first use. */
async function firstAnswerAfterStart(settings: Record<string, string>, appDir: string, target: Target): Promise<number> {
  const started = process.hrtime.bigint();
  const { service, url } = await startHost(settings, appDir);
  try {
    const agent = new Agent({ keepAlive: false });
    const { status } = await timedRequest(agent, at(target, url));
    if (status !== 200) throw new Error(`first chat completion answered ${status}`);
    return Number(process.hrtime.bigint() - started) / 1e6;
  } finally {
    await service.stop();
  }
}

/** Holds `count` streams open through the app (the emulator paces them slowly) and reads the host's memory. */
async function openStreamsMemory(emulatorUrl: string, target: Target, pid: number, count: number) {
  const idleMiB = residentMiB(pid);
  await emulatorSettings(emulatorUrl, { token_delay_ms: 2_000 });
  const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
  const requests: Array<ReturnType<typeof request>> = [];
  const { body } = withFields(target, longStream);
  const firstBytes = Array.from(
    { length: count },
    () =>
      new Promise<void>((resolvePromise, reject) => {
        const req = request(target.url, { agent, method: "POST", headers: target.headers }, (res) => {
          if (res.statusCode !== 200) reject(new Error(`stream answered ${res.statusCode}`));
          res.once("data", () => resolvePromise());
          res.on("error", () => undefined);
        });
        req.on("error", () => undefined);
        req.end(body);
        requests.push(req);
      }),
  );
  await Promise.all(firstBytes);
  await new Promise((r) => setTimeout(r, 500));
  const openMiB = residentMiB(pid);
  for (const req of requests) req.destroy();
  agent.destroy();
  await emulatorSettings(emulatorUrl, { token_delay_ms: 0 });
  return { streams: count, idleMiB, openMiB };
}

const added = (through: LoadResult, direct: LoadResult, p: number) => percentile(through.latenciesMs, p) - percentile(direct.latenciesMs, p);
const ms = (value: number) => `${value.toFixed(3)} ms`;
const perSecond = (result: LoadResult) => result.requests / (result.elapsedMs / 1000);
const rps = (result: LoadResult) => perSecond(result).toFixed(0);
/** The target on a host of its own: the same path at `origin`. */
const at = (target: Target, origin: string): Target => ({ ...target, url: target.url.replace(/^http:\/\/[^/]+/, origin) });

(args.includes("--faults") ? faultRun() : args.includes("--jobs") ? jobsRun() : main()).catch((error: Error) => {
  console.error(`bench failed: ${error.message}`);
  process.exit(1);
});
