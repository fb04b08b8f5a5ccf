import { readCallerKeys } from "./caller-keys.js";
import { readChatLimits } from "./chat-limits.js";
import { ConfigError } from "./config-error.js";
import { readCors } from "./cors.js";
import { deploymentSettingPrefix, readDeployments } from "./deployments.js";
import { readFallbacks } from "./fallbacks.js";
import { readHttpTools } from "./http-tools.js";
import { readIdempotency } from "./idempotency.js";
import { readJobs } from "./jobs.js";
import { readPublicHost } from "./public-host.js";
import { readQuotas } from "./quotas.js";
import { Secret } from "./secret.js";
import { type Env, SettingsReader } from "./settings-reader.js";
import { readSignedInUsers } from "./signed-in-users.js";
import { readStorage } from "./storage.js";
import { readTelemetry } from "./telemetry.js";
import type { AppConfig, StorageConfig } from "./types.js";

/** Front Door cuts responses at 230 s; a model call must end well before that. */
const MAX_MODEL_TIMEOUT_MS = 220_000;

/**
 * Reads and validates every setting once. Throws one ConfigError naming every problem; on success
 * returns a deeply frozen AppConfig.
 */
export function loadConfig(env: Env): AppConfig {
  const settings = new SettingsReader(env);
  const deployments = readDeployments(settings);
  const modelTimeoutMs = settings.integer("MODEL_TIMEOUT_MS", 120_000, { min: 1_000, max: MAX_MODEL_TIMEOUT_MS });
  const breaker = {
    failures: settings.integer("BREAKER_FAILURES", 5, { min: 1, max: 1_000 }),
    windowMs: settings.integer("BREAKER_WINDOW_MS", 30_000, { min: 1_000, max: 600_000 }),
    coolDownMs: settings.integer("BREAKER_COOLDOWN_MS", 30_000, { min: 100, max: 600_000 }),
    // Two: one caller alone cannot open the circuit for the others (1 restores that, for an app
    // with a single caller).
    minCallers: settings.integer("BREAKER_MIN_CALLERS", 2, { min: 1, max: 100 }),
  };
  const fallbacks = readFallbacks(
    settings,
    deployments.map((d) => d.alias),
  );
  const maxTokens = settings.integer("MODEL_MAX_TOKENS", 4_096, { min: 1, max: 131_072 });
  // NOTE: a JSON answer's headers come only when the whole answer is ready, so by default one attempt
  // may take the whole budget; set it lower to retry sooner when long answers are not expected.
  const attemptTimeoutMs = settings.integer("MODEL_ATTEMPT_TIMEOUT_MS", modelTimeoutMs, { min: 1_000, max: MAX_MODEL_TIMEOUT_MS });
  const idleTimeoutMs = settings.integer("MODEL_IDLE_TIMEOUT_MS", Math.min(30_000, modelTimeoutMs), { min: 1_000, max: MAX_MODEL_TIMEOUT_MS });
  // Each instance's connections to a model endpoint. NOTE: App Service gives an instance 128 SNAT ports for
  // one destination; more connections than that can fail to open, so the default stays within them. Every
  // streamed answer holds a connection, so this is also the most concurrent calls to one endpoint.
  const upstreamPool = {
    connectionsPerEndpoint: settings.integer("MODEL_MAX_CONNECTIONS", 128, { min: 1, max: 1_024 }),
    // Shorter than Azure's front-end idle timeouts (4 minutes and more), so the app, not the server, closes an
    // idle connection; long enough to reuse it across a conversation's turns. A burst's sockets go 10 s after.
    idleMs: settings.integer("MODEL_CONNECTION_IDLE_MS", 10_000, { min: 1_000, max: 60_000 }),
  };
  const retries = {
    maxRetries: settings.integer("MODEL_MAX_RETRIES", 2, { min: 0, max: 5 }),
    baseDelayMs: settings.integer("MODEL_RETRY_BASE_DELAY_MS", 250, { min: 10, max: 10_000 }),
  };
  const callerKeys = readCallerKeys(settings);
  // Set by App Service itself when its authentication is on; never set it by hand.
  const platformAuth = settings.boolean("WEBSITE_AUTH_ENABLED", false);
  const signedInUsers = readSignedInUsers(settings);
  const quotas = readQuotas(
    settings,
    Object.fromEntries(deployments.map((d) => [d.alias, deploymentSettingPrefix(d.alias)])),
    callerKeys.map((k) => k.name),
  );
  const tools = {
    timeoutMs: settings.integer("TOOL_TIMEOUT_MS", 10_000, { min: 100, max: 120_000 }),
    maxOutputBytes: settings.integer("TOOL_OUTPUT_MAX_BYTES", 16_384, { min: 256, max: 1_048_576 }),
    maxIterations: settings.integer("TOOL_MAX_ITERATIONS", 5, { min: 1, max: 20 }),
    // One model turn can ask for hundreds of calls, each an outbound request: bound the fan-out.
    maxCallsPerTurn: settings.integer("TOOL_MAX_CALLS_PER_TURN", 8, { min: 1, max: 128 }),
    maxCallsPerRequest: settings.integer("TOOL_MAX_CALLS_PER_REQUEST", 32, { min: 1, max: 1_000 }),
    maxConcurrent: settings.integer("TOOL_MAX_CONCURRENCY", 4, { min: 1, max: 64 }),
    maxConcurrentPerInstance: settings.integer("TOOL_MAX_CONCURRENCY_PER_INSTANCE", 64, { min: 1, max: 10_000 }),
  };
  const httpTools = readHttpTools(settings);
  const streamHeartbeatMs = settings.integer("STREAM_HEARTBEAT_MS", 15_000, { min: 100, max: 15_000 });
  const storage = readStorage(settings);
  const cors = readCors(settings);
  const telemetry = readTelemetry(settings);
  const identityClientId = settings.string("AZURE_CLIENT_ID", { required: false });
  const publicHost = readPublicHost(settings);
  const idempotency = readIdempotency(settings);
  const jobs = readJobs(settings);
  const chat = readChatLimits(settings);

  if (settings.problems.length > 0) throw new ConfigError(settings.problems);
  return deepFreeze({
    deployments,
    modelTimeoutMs,
    attemptTimeoutMs,
    idleTimeoutMs,
    retries,
    upstreamPool,
    maxTokens,
    breaker,
    fallbacks,
    callerKeys,
    platformAuth,
    ...(signedInUsers ? { signedInUsers } : {}),
    quotas,
    cors,
    telemetry,
    ...(identityClientId ? { identityClientId } : {}),
    unresolvedSettings: settings.unresolved,
    streamHeartbeatMs,
    tools,
    httpTools,
    storage: storage as StorageConfig,
    publicHost,
    idempotency,
    jobs,
    chat,
  });
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !(value instanceof Secret) && !Buffer.isBuffer(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
