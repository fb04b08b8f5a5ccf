import { Agent, request } from "node:http";
import { resolve } from "node:path";
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
 * --faults (the fault run instead: see fault-run.ts), --jobs (the jobs' load run alone: see jobs-run.ts).
 *
 * The main figures are the proxy's own cost, quotas off. Two variants follow, each measured the same
 * way against the same emulator: quotas on (counters in Azurite) and telemetry on (a local ingestion
 * endpoint), so what each feature costs is its difference from the main figures.
 */
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const openStreams = Number(args[args.indexOf("--streams") + 1] ?? 0) || 1000;
const scale = quick ? 0.1 : 1;
const n = (count: number) => Math.max(50, Math.round(count * scale));

const chatBody = JSON.stringify({
  messages: [
    { role: "system", content: "You are a helpful assistant." },
    { role: "user", content: "How many languages are in the world?" },
  ],
});
/** A short answer: the first-byte figure needs the first token, not the whole stream. */
const streamBody = JSON.stringify({ ...JSON.parse(chatBody), stream: true, max_tokens: 3 });
/** A full answer, paced slowly by the emulator, holds a stream open for the memory figure. */
const longStreamBody = JSON.stringify({ ...JSON.parse(chatBody), stream: true });

async function main(): Promise<void> {
  const services: Service[] = [];
  try {
    const emulator = await startEmulatorService();
    services.push(emulator.service);
    const emulatorUrl = emulator.url;

    const settings = hostSettings(emulatorUrl);
    const startups: number[] = [];
    for (let i = 0; i < (quick ? 3 : 7); i++) {
      const { service, ms } = await startHost(settings);
      startups.push(ms);
      await service.stop();
    }
    const { service: host, url: hostUrl } = await startHost(settings);
    services.push(host);

    const direct: Target = {
      url: `${emulatorUrl}/mistral-large/chat/completions`,
      headers: { "content-type": "application/json", "api-key": "emulator-key" },
      body: chatBody,
    };
    const proxied: Target = { url: `${hostUrl}/api/chat/completions`, headers: { "content-type": "application/json", "api-key": "dev-key" }, body: chatBody };

    // Warm both paths (JIT, keep-alive sockets, upstream connection pool).
    await runLoad(direct, { concurrency: 8, total: n(2000) });
    await runLoad(proxied, { concurrency: 8, total: n(2000) });

    const [c1Direct, c1Proxied] = await alternating(direct, proxied, n(3000));
    const c50Direct = await runLoad(direct, { concurrency: 50, total: n(20000) });
    const { result: c50Proxied, cpuMs: cpuPerRequest } = await medianCpuRound(host.child.pid as number, proxied);

    // Tokens paced as a model paces them, so the first one travels alone, as it does in production;
    // with no pacing at all the whole answer arrives in one read and is relayed as one burst.
    await emulatorSettings(emulatorUrl, { token_delay_ms: 5 });
    const [ttfbDirect, ttfbProxied] = await alternating({ ...direct, body: streamBody }, { ...proxied, body: streamBody }, n(600), "first-byte");
    await emulatorSettings(emulatorUrl, { token_delay_ms: 0 });

    // A whole short stream (3 tokens, unpaced) per request: what streaming costs beyond a JSON answer.
    const { result: streamed, cpuMs: cpuPerStream } = await medianCpuRound(host.child.pid as number, { ...proxied, body: streamBody });

    const firstAnswer = await firstAnswerAfterStart(settings, proxied);

    const memory = await openStreamsMemory(emulatorUrl, proxied, host.child.pid as number, quick ? 100 : openStreams);
    await host.stop();

    const floors = { node: await measureFloor("node", emulatorUrl, direct), platform: await measureFloor("platform", emulatorUrl, direct) };
    const quotas = await measureVariant(await quotasVariant(), settings, direct, proxied);
    const telemetry = await measureVariant(await telemetryVariant(), settings, direct, proxied);
    const jobs = await measureJobsLoad(quick ? 50 : 200);

    for (const [name, result] of Object.entries({ c1Direct, c1Proxied, c50Direct, c50Proxied, ttfbDirect, ttfbProxied })) {
      if (result.failures > 0) throw new Error(`${name}: ${result.failures} of ${result.requests} requests failed`);
    }
    printTable([
      ["added latency p50, concurrency 1", ms(added(c1Proxied, c1Direct, 50))],
      ["added latency p99, concurrency 1", ms(added(c1Proxied, c1Direct, 99))],
      ["added latency p50, concurrency 50", ms(added(c50Proxied, c50Direct, 50))],
      ["added latency p99, concurrency 50", ms(added(c50Proxied, c50Direct, 99))],
      ["requests per second, concurrency 50 (via app / emulator alone)", `${rps(c50Proxied)} / ${rps(c50Direct)}`],
      ["CPU per request, host process, concurrency 50 (median of 3 rounds)", ms(cpuPerRequest)],
      ["CPU per streamed request (3 tokens), concurrency 50 (median of 3 rounds)", `${ms(cpuPerStream)} (${rps(streamed)} streams/s)`],
      ["added time to first byte of a stream, p50", ms(added(ttfbProxied, ttfbDirect, 50))],
      ["start-up, process start to first 200 from /api/health (median)", `${percentile(startups, 50).toFixed(0)} ms`],
      ["process start to first chat completion (loads the model SDK)", `${firstAnswer.toFixed(0)} ms`],
      [`resident memory with ${memory.streams} open streams (idle)`, `${memory.openMiB.toFixed(0)} MiB (${memory.idleMiB.toFixed(0)} MiB)`],
      ["floor, bare Node proxy (http + undici): added latency p50, concurrency 1", ms(added(floors.node.c1Proxied, floors.node.c1Direct, 50))],
      ["floor, bare Node proxy: CPU per request, concurrency 50", ms(floors.node.cpuPerRequest)],
      ["floor, + Functions request objects + model SDK: added latency p50, concurrency 1", ms(added(floors.platform.c1Proxied, floors.platform.c1Direct, 50))],
      ["floor, + Functions request objects + model SDK: CPU per request, concurrency 50", ms(floors.platform.cpuPerRequest)],
      ["with quotas on (Azurite): added latency p50, concurrency 1", ms(added(quotas.c1Proxied, quotas.c1Direct, 50))],
      ["with quotas on: CPU per request, concurrency 50", ms(quotas.cpuPerRequest)],
      ["with telemetry on: start-up to first 200 (median)", `${telemetry.startupMs.toFixed(0)} ms`],
      ["with telemetry on: added latency p50, concurrency 1", ms(added(telemetry.c1Proxied, telemetry.c1Direct, 50))],
      ["with telemetry on: CPU per request, concurrency 50", ms(telemetry.cpuPerRequest)],
      ...jobsLoadRows(jobs),
    ]);
    console.log(`\nDirect to the emulator: p50 ${ms(percentile(c1Direct.latenciesMs, 50))} at concurrency 1. ${quick ? "Quick run: figures are rough." : ""}`);
  } finally {
    await Promise.all(services.map((s) => s.stop()));
  }
}

/** CPU per request is the median of three rounds at concurrency 50: one round can catch the machine busy elsewhere. */
async function medianCpuRound(pid: number, target: Target): Promise<{ result: LoadResult; cpuMs: number }> {
  const rounds: Array<{ result: LoadResult; cpuMs: number }> = [];
  for (let round = 0; round < 3; round++) {
    const cpuBefore = cpuTimeMs(pid);
    const result = await runLoad(target, { concurrency: 50, total: n(8000) });
    if (result.failures > 0) throw new Error(`${result.failures} of ${result.requests} requests failed`);
    rounds.push({ result, cpuMs: (cpuTimeMs(pid) - cpuBefore) / result.requests });
  }
  rounds.sort((a, b) => a.cpuMs - b.cpuMs);
  return rounds[1] as { result: LoadResult; cpuMs: number };
}

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
    const { cpuMs } = await medianCpuRound(service.child.pid as number, target);
    return { c1Direct, c1Proxied, cpuPerRequest: cpuMs };
  } finally {
    await service.stop();
  }
}

/** One feature's cost: a host of its own with the variant's settings, measured as the main figures are. */
async function measureVariant(variant: Variant, base: Record<string, string>, direct: Target, proxied: Target) {
  const settings = { ...base, ...variant.settings };
  try {
    const startups: number[] = [];
    for (let i = 0; i < 3; i++) {
      const { service, ms } = await startHost(settings);
      startups.push(ms);
      await service.stop();
    }
    const { service: host, url } = await startHost(settings);
    try {
      const target = { ...proxied, url: proxied.url.replace(/^http:\/\/[^/]+/, url) };
      await runLoad(target, { concurrency: 8, total: n(2000) });
      const [c1Direct, c1Proxied] = await alternating(direct, target, n(1500));
      const cpuBefore = cpuTimeMs(host.child.pid as number);
      const c50 = await runLoad(target, { concurrency: 50, total: n(8000) });
      const cpuPerRequest = (cpuTimeMs(host.child.pid as number) - cpuBefore) / c50.requests;
      for (const result of [c1Proxied, c50]) if (result.failures > 0) throw new Error(`variant: ${result.failures} of ${result.requests} requests failed`);
      return { startupMs: percentile(startups, 50), c1Direct, c1Proxied, cpuPerRequest };
    } finally {
      await host.stop();
    }
  } finally {
    await variant.stop();
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
async function firstAnswerAfterStart(settings: Record<string, string>, target: Target): Promise<number> {
  const started = process.hrtime.bigint();
  const { service, url } = await startHost(settings);
  try {
    const agent = new Agent({ keepAlive: false });
    const { status } = await timedRequest(agent, { ...target, url: target.url.replace(/^http:\/\/[^/]+/, url) });
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
        req.end(longStreamBody);
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
const rps = (result: LoadResult) => (result.requests / (result.elapsedMs / 1000)).toFixed(0);

(args.includes("--faults") ? faultRun() : args.includes("--jobs") ? jobsRun() : main()).catch((error: Error) => {
  console.error(`bench failed: ${error.message}`);
  process.exit(1);
});
