import { app } from "@azure/functions";
import { getRuntime } from "./runtime.js";
import { startTelemetry } from "./telemetry/start-telemetry.js";

// App-wide setup only; each function registers itself in its own file under functions/.
app.setup({ enableHttpStream: true });

// Read and validate the configuration now, so a bad setting stops the app at start-up with one
// message naming every problem, instead of failing the first request.
const runtime = getRuntime();

// Telemetry only when Application Insights is configured; otherwise nothing is loaded at all.
const telemetry = startTelemetry(runtime.config.telemetry);
if (telemetry) {
  // What is still buffered is sent before the worker stops.
  app.hook.appTerminate(() => telemetry.flush());
}
