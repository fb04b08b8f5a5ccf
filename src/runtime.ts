import { type AppConfig, appConfig } from "./config/index.js";
import type { ModelAuth } from "./credentials/model-auth.js";
import { type IdempotencyStore, TableIdempotencyStore } from "./idempotency/idempotency-store.js";
import { ModelRegistry } from "./inference/index.js";
import { ModelInfoCache } from "./inference/model-info-cache.js";
import { authsFor } from "./inference/model-registry.js";
import { JobQueue } from "./jobs/job-queue.js";
import { TableJobStore } from "./jobs/job-store.js";
import { LeasedQuotaStore, type QuotaStore, TableQuotaStore } from "./quotas/index.js";
import { StorageProbe } from "./storage/storage-probe.js";
import { httpTool } from "./tools/http-tool.js";
import { ToolRegistry } from "./tools/tool-registry.js";

/** Everything handlers share, built once per process from the configuration. */
export interface Runtime {
  config: AppConfig;
  models: ModelRegistry;
  /** Each deployment's credential by alias (the ones its model client uses). */
  credentials: ReadonlyMap<string, ModelAuth>;
  modelInfo: ModelInfoCache;
  storage: StorageProbe;
  /** The shared quota counters, when quotas are on (QUOTAS). */
  quotas: QuotaStore | undefined;
  tools: ToolRegistry;
  /** Idempotency-Key: the keys and kept answers. */
  idempotency: IdempotencyStore;
  /** Chat jobs: their rows and blobs, and the queue they wait in. */
  jobs: { store: TableJobStore; queue: JobQueue };
}

/** A running request holds its key this much past the longest a model call may take. */
const IDEMPOTENCY_LEASE_MARGIN_MS = 30_000;

const MODEL_INFO_TTL_MS = 5 * 60_000;
const MODEL_INFO_TIMEOUT_MS = 10_000;

let current: Runtime | undefined;

export function createRuntime(config: AppConfig): Runtime {
  const credentials = authsFor(config);
  return {
    config,
    models: ModelRegistry.fromConfig(config, credentials),
    credentials,
    modelInfo: new ModelInfoCache(MODEL_INFO_TTL_MS, MODEL_INFO_TIMEOUT_MS),
    storage: new StorageProbe(config.storage, config.identityClientId),
    quotas: config.quotas.enabled
      ? new LeasedQuotaStore({
          shared: new TableQuotaStore({ storage: config.storage, tableName: config.quotas.table, identityClientId: config.identityClientId }),
          leaseFraction: config.quotas.leasePercent / 100,
        })
      : undefined,
    tools: ToolRegistry.builtIn(
      config.httpTools.tools.map((tool) => httpTool(tool, config.httpTools)),
      { maxConcurrent: config.tools.maxConcurrentPerInstance },
    ),
    idempotency: new TableIdempotencyStore({
      storage: config.storage,
      tableName: config.idempotency.table,
      identityClientId: config.identityClientId,
      retentionMs: config.idempotency.retentionMs,
      leaseMs: config.modelTimeoutMs + IDEMPOTENCY_LEASE_MARGIN_MS,
    }),
    jobs: {
      store: new TableJobStore({ storage: config.storage, identityClientId: config.identityClientId, jobs: config.jobs }),
      queue: new JobQueue({
        storage: config.storage,
        identityClientId: config.identityClientId,
        queue: config.jobs.queue,
        retentionMs: config.jobs.retentionMs,
      }),
    },
  };
}

/** The process-wide runtime; the first call reads the configuration (and throws if it is invalid). */
export function getRuntime(): Runtime {
  current ??= createRuntime(appConfig());
  return current;
}

/** For tests that run handlers against a runtime of their own. */
export function setRuntime(runtime: Runtime | undefined): void {
  current = runtime;
}
