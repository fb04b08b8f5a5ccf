import { Secret } from "./secret.js";
import type { SettingsReader } from "./settings-reader.js";
import type { TelemetryConfig } from "./types.js";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * `APPLICATIONINSIGHTS_CONNECTION_STRING` turns telemetry on; `APPLICATIONINSIGHTS_AUTHENTICATION_STRING`
 * (`Authorization=AAD;ClientId=<client id>`, or `Authorization=AAD` for a system-assigned identity) sends
 * it with Entra ID instead of the instrumentation key; `TELEMETRY_CAPTURE_CONTENT` records prompts,
 * answers and tool data; `TELEMETRY_SAMPLING_RATIO` keeps that share of traces (metrics are never sampled).
 */
export function readTelemetry(settings: SettingsReader): TelemetryConfig {
  const connection = settings.string("APPLICATIONINSIGHTS_CONNECTION_STRING", { required: false });
  const captureContent = settings.boolean("TELEMETRY_CAPTURE_CONTENT", false);
  const samplingPercent = settings.integer("TELEMETRY_SAMPLING_PERCENT", 100, { min: 1, max: 100 });
  const authentication = readAuthentication(settings);
  if (connection === undefined) return { captureContent, samplingRatio: samplingPercent / 100 };
  if (!/(^|;)\s*(InstrumentationKey|IngestionEndpoint)\s*=/i.test(connection)) {
    settings.problem("APPLICATIONINSIGHTS_CONNECTION_STRING must be an Application Insights connection string (InstrumentationKey=...;IngestionEndpoint=...)");
  }
  return {
    connectionString: new Secret(connection),
    captureContent,
    samplingRatio: samplingPercent / 100,
    ...(authentication ? { entra: authentication } : {}),
  };
}

function readAuthentication(settings: SettingsReader): { clientId?: string } | undefined {
  const raw = settings.string("APPLICATIONINSIGHTS_AUTHENTICATION_STRING", { required: false });
  if (raw === undefined) return undefined;
  const parts = new Map(
    raw
      .split(";")
      .map((part) => part.split("=").map((s) => s.trim()))
      .filter((pair): pair is [string, string] => pair.length === 2)
      .map(([key, value]) => [key.toLowerCase(), value]),
  );
  const clientId = parts.get("clientid");
  if (parts.get("authorization")?.toUpperCase() !== "AAD" || (clientId !== undefined && !GUID.test(clientId))) {
    settings.problem("APPLICATIONINSIGHTS_AUTHENTICATION_STRING must be Authorization=AAD or Authorization=AAD;ClientId=<client id>");
    return undefined;
  }
  return clientId ? { clientId } : {};
}
