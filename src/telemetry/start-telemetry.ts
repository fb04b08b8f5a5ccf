import type { TelemetryConfig } from "../config/types.js";
import { appIdentity } from "../credentials/app-identity.js";
import { OtelTelemetry } from "./otel-telemetry.js";
import { setTelemetry, type Telemetry } from "./telemetry.js";

/**
 * Turns telemetry on with `applicationinsights` v3 (the Azure Monitor OpenTelemetry distribution):
 * only the spans and metrics this app records, no automatic instrumentation. Requests are ours (the
 * host's own request telemetry is off in host.json, so none is counted twice); the SDK's HTTP
 * instrumentation would see the worker's internal proxy as requests, and its Azure SDK
 * instrumentation cannot see streamed model calls, so both are off and model calls are recorded here.
 */
export function startTelemetry(config: TelemetryConfig): Telemetry | undefined {
  if (!config.connectionString) return undefined;
  // require, not import(): loaded only when telemetry is on; it costs start-up time.
  const insights = require("applicationinsights") as typeof import("applicationinsights");
  const api = require("@opentelemetry/api") as typeof import("@opentelemetry/api");
  const off = { enabled: false };
  insights.useAzureMonitor({
    azureMonitorExporterOptions: {
      connectionString: config.connectionString.reveal(),
      // Entra ID ingestion (local auth off on the resource): the app's user-assigned identity.
      ...(config.entra ? { credential: appIdentity(config.entra.clientId) } : {}),
    },
    samplingRatio: config.samplingRatio,
    // 0 turns the rate-limited sampler off: the ratio alone decides, the same for every instance.
    tracesPerSecond: 0,
    enableLiveMetrics: false,
    instrumentationOptions: { http: off, azureSdk: off, mongoDb: off, mySql: off, postgreSql: off, redis: off, redis4: off, bunyan: off, winston: off },
  });
  const telemetry = new OtelTelemetry(api, { captureContent: config.captureContent, flush: () => insights.flushAzureMonitor() });
  setTelemetry(telemetry);
  return telemetry;
}
