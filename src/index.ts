import { app } from "@azure/functions";
import { PRELOAD_DELAY_MS, preloadModelApis } from "./inference/preload-model-apis.js";
import { safeText } from "./lib/safe-text.js";
import { getRuntime } from "./runtime.js";
import { startTelemetry } from "./telemetry/start-telemetry.js";

// App-wide setup only; each function registers itself in its own file under functions/.
app.setup({ enableHttpStream: true });

// The last line of defence, not the fix: a promise that rejects with nobody listening would end the
// worker, and with it every request and stream in flight on this instance. Each path by which a
// caller's input could lead here is closed where it starts (and tested); this only logs what is left.
process.on("unhandledRejection", (reason) => {
  console.error("Unhandled rejection (the process carries on):", reason instanceof Error ? `${reason.name}: ${safeText(reason.message)}` : "non-error value");
});

// Read and validate the configuration now, so a bad setting stops the app at start-up with one
// message naming every problem, instead of failing the first request.
const runtime = getRuntime();

// The model SDKs (and the quota store's Table Storage client) load shortly after start-up, so the
// first model call does not wait for them. Not at once: whatever arrives in the first moments (a
// health probe) would wait for them instead. In Azure the first invocation comes after the Functions
// host has finished starting, well after this.
// A package that fails to load here fails the first model call that needs it, with its own error.
setTimeout(() => preloadModelApis(runtime.config.deployments, { quotas: runtime.config.quotas.enabled }).catch(() => undefined), PRELOAD_DELAY_MS).unref();

// Budget this instance leased ahead of need goes back to the shared counters as it stops.
app.hook.appTerminate(async () => {
  await runtime.quotas?.close?.();
});

// Telemetry only when Application Insights is configured; otherwise nothing is loaded at all.
const telemetry = startTelemetry(runtime.config.telemetry);
if (telemetry) {
  // What is still buffered is sent before the worker stops.
  app.hook.appTerminate(() => telemetry.flush());
}
