import type { AppConfig } from "../config/index.js";
import { isCredentialError } from "../credentials/credential-error.js";
import type { ModelAuth } from "../credentials/model-auth.js";
import type { ModelRegistry } from "../inference/index.js";
import { isModelError } from "../inference/index.js";
import type { StorageProbe } from "../storage/storage-probe.js";

export interface CheckResult {
  name: string;
  status: "ok" | "failed";
  duration_ms: number;
  /** Why it failed, safe to show anyone: no URL, key or stack. */
  detail?: string;
  /** A deployment's check: the model API it is reached through. */
  api?: string;
}

export interface Readiness {
  status: "ready" | "not_ready";
  checks: CheckResult[];
}

const CHECK_TIMEOUT_MS = 5_000;

/** What readiness checks: the settings, each deployment's credential and model, storage and the jobs' queue. */
export interface ReadinessTargets {
  config: AppConfig;
  credentials: ReadonlyMap<string, ModelAuth>;
  models: ModelRegistry;
  storage: StorageProbe;
  jobs: { queue: { check(signal: AbortSignal): Promise<void> } };
}

/** Runs every readiness check at once. */
export async function checkReadiness(runtime: ReadinessTargets): Promise<Readiness> {
  const checks = await Promise.all([
    // The settings were validated at start-up; what can still make the app useless is having no callers.
    run("config", async () => {
      const { callerKeys, platformAuth, signedInUsers, unresolvedSettings } = runtime.config;
      if (unresolvedSettings.length > 0) {
        throw new ReadinessFailure(
          `unresolved Key Vault references in ${unresolvedSettings.join(", ")}; check that each secret exists and the app's identity may read it`,
        );
      }
      if (callerKeys.length === 0 && !platformAuth && !signedInUsers) {
        throw new ReadinessFailure(
          "no caller keys are configured (CALLER_KEYS), signed-in users are off (ENTRA_TENANT_ID) and platform authentication is off, so every request is refused",
        );
      }
    }),
    ...[...runtime.credentials].map(([alias, auth]) => run(`credential:${alias}`, (signal) => auth.check(signal))),
    ...runtime.models.all().map(async (port) => ({ ...(await run(`model:${port.alias}`, (signal) => port.info({ signal }))), api: port.api })),
    run("storage", (signal) => runtime.storage.check(signal)),
    // Its own check: the queue is another service of the account, with a role of its own in Azure.
    run("queue", (signal) => runtime.jobs.queue.check(signal)),
  ]);
  return { status: checks.every((c) => c.status === "ok") ? "ready" : "not_ready", checks };
}

async function run(name: string, check: (signal: AbortSignal) => Promise<unknown>): Promise<CheckResult> {
  const started = Date.now();
  const signal = AbortSignal.timeout(CHECK_TIMEOUT_MS);
  try {
    await check(signal);
    return { name, status: "ok", duration_ms: Date.now() - started };
  } catch (error) {
    return { name, status: "failed", duration_ms: Date.now() - started, detail: describe(error, signal) };
  }
}

/** A failed check whose message is written for the readiness answer. */
class ReadinessFailure extends Error {}

function describe(error: unknown, signal: AbortSignal): string {
  if (error instanceof ReadinessFailure || isCredentialError(error)) return error.message;
  if (isModelError(error)) return `${error.code}: ${error.message}`;
  if (signal.aborted) return `no answer within ${CHECK_TIMEOUT_MS / 1000} s`;
  const status = (error as { statusCode?: unknown })?.statusCode;
  if (typeof status === "number") return `the service answered ${status}`;
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" ? `unreachable (${code})` : "unreachable";
}

/**
 * The readiness route is anonymous; answering from a result at most this old keeps anyone from
 * turning it into a stream of upstream /info calls.
 */
const RESULT_TTL_MS = 5_000;
const recent = new WeakMap<ReadinessTargets, { at: number; result: Promise<Readiness> }>();

export function recentReadiness(runtime: ReadinessTargets, now = Date.now()): Promise<Readiness> {
  const cached = recent.get(runtime);
  if (cached && now - cached.at < RESULT_TTL_MS) return cached.result;
  const result = checkReadiness(runtime);
  recent.set(runtime, { at: now, result });
  return result;
}
