import { randomBytes } from "node:crypto";
import { relative } from "node:path";
import { CoreApi, type LogLevel } from "./core-api.js";
import { DirectInvoker, type FunctionsLibrary } from "./direct-invoker.js";
import { FunctionsHost } from "./functions-host.js";
import { entryPoints, functionsLibrary, routePrefix } from "./load-app.js";
import { ProxyInvoker } from "./proxy-invoker.js";
import { QueueTriggers, queueFunctions, queueOptions } from "./queue-trigger.js";
import { TimerTriggers, timerFunctions } from "./timer-trigger.js";

/**
 * `node dist/dev/host/main.js [appRoot]`: a local stand-in for the Azure Functions host, for machines
 * without Core Tools. It loads the app's entry files as the worker does and serves its HTTP functions
 * on http://localhost:PORT (7071).
 */
const appRoot = process.argv[2] ?? process.cwd();
const port = Number(process.env.PORT ?? 7071);
const bind = process.env.FUNCTIONS_HOST_BIND ?? "127.0.0.1";
const functionKey = process.env.FUNCTIONS_HOST_KEY ?? randomBytes(24).toString("base64url");
const quiet = process.env.FUNCTIONS_HOST_QUIET === "true";
const mode = process.env.FUNCTIONS_HOST_MODE ?? "direct";

const levels: Record<string, number> = { trace: 0, debug: 1, information: 2, warning: 3, error: 4, critical: 5 };
const core = new CoreApi((level: LogLevel, category: string, message: string) => {
  if ((levels[level] ?? 2) < (category === "system" ? 3 : 2)) return;
  const line = `[${level}] ${message}`;
  if (level === "error" || level === "critical" || level === "warning") console.error(line);
  else if (!quiet) console.log(line);
});
core.install();

async function main(): Promise<void> {
  // host.json is read first: a queue setting it gets wrong stops the host before it serves.
  const queues = new QueueTriggers(core, queueOptions(appRoot));
  for (const file of entryPoints(appRoot)) {
    try {
      require(file);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      console.error(`Worker was unable to load entry point "${relative(appRoot, file)}": ${message}`);
      process.exit(1);
    }
  }
  if (!core.programmingModel) throw new Error("The app does not use @azure/functions v4: no programming model was set.");
  if (mode !== "direct" && mode !== "proxy") throw new Error(`FUNCTIONS_HOST_MODE must be direct or proxy, not ${mode}.`);
  const capabilities = await core.programmingModel.getCapabilities({});
  const proxyUri = capabilities.HttpUri;
  if (!proxyUri) throw new Error("This host serves apps that call app.setup({ enableHttpStream: true }) only.");
  const library = functionsLibrary(appRoot) as FunctionsLibrary;

  const host = new FunctionsHost(core, {
    routePrefix: routePrefix(appRoot),
    functionKey,
    invoker: mode === "proxy" ? new ProxyInvoker(core, proxyUri) : new DirectInvoker(core, library),
    onInvocation: quiet ? undefined : (line) => console.log(line),
  });
  await core.runHooks("appStart", { hookData: {}, functionAppDirectory: appRoot, hostVersion: "local" });
  const url = await host.listen(port, bind);
  const queued = queueFunctions(core);
  queues.start(queued, library);
  const timed = timerFunctions(core);
  const timers = new TimerTriggers(core, library);
  timers.start(timed);

  console.log("\nFunctions:\n");
  for (const fn of host.functions) {
    const methods = fn.methods ? [...fn.methods].join(",") : "ALL";
    console.log(`  ${fn.name}: [${methods}] ${url}/${fn.route.template}  (auth: ${fn.authLevel})`);
  }
  for (const fn of queued) console.log(`  ${fn.name}: queueTrigger on ${fn.queueName} (connection: ${fn.connection})`);
  for (const fn of timed) console.log(`  ${fn.name}: timerTrigger on ${fn.schedule}`);
  console.log(`\nHost listening on ${url} (${mode} invocation)`);

  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      void (async () => {
        await core.runHooks("appTerminate", { hookData: {} });
        await Promise.all([host.close(), queues.stop(), timers.stop()]);
        process.exit(0);
      })();
    });
  }
}

main().catch((error: Error) => {
  console.error(`Host failed to start: ${error.message}`);
  process.exit(1);
});
