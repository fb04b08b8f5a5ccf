import { randomUUID } from "node:crypto";
import type { TableClient } from "@azure/data-tables";
import type { ContainerClient } from "@azure/storage-blob";
import type { JobsConfig } from "../config/jobs.js";
import type { StorageConfig } from "../config/types.js";
import { containerClient } from "../storage/blob-clients.js";
import { fromPieces, storageStatus, toPieces } from "../storage/entity-pieces.js";
import { escapeRowKey } from "../storage/row-key.js";
import { tableClient } from "../storage/table-clients.js";
import { FINAL, type JobClaim, type JobLease, type JobResult, type JobStatus, type JobView, type NewJob } from "./job-types.js";

/**
 * A request or result longer than this goes to a blob: an entity holds 1 MiB in all, and a row holds
 * both (a request is at most 256 KiB today; the limit leaves room for it to grow).
 */
const INLINE_BYTES = 400_000;
/** Every storage call gets this long. */
const STORAGE_TIMEOUT_MS = 5_000;
/** Conditional writes lost to another writer are tried again this many times. */
const TRIES = 4;

type Entity = Record<string, unknown> & { etag: string };

export interface JobStoreOptions {
  storage: StorageConfig;
  identityClientId?: string;
  jobs: Pick<JobsConfig, "table" | "container" | "retentionMs" | "maxAttempts" | "leaseMs">;
  now?: () => number;
}

/**
 * The jobs' table (JOB_TABLE, default `chatjobs`): one row per job, PartitionKey the caller's id
 * (escaped), RowKey the job's id, so a caller reads only its own jobs and another caller's id finds
 * nothing. Every change of state is a conditional write on the row's ETag, so two workers (a message
 * delivered twice, or taken again after a worker died) and a cancel cannot both win:
 * queued → running (a run's lease, renewed while it runs) → succeeded | failed | cancelled.
 * Requests and results too long for the row are blobs in JOB_CONTAINER, named by the job's id.
 */
export class TableJobStore {
  #table: TableClient | undefined;
  #tableReady: Promise<void> | undefined;
  #container: ContainerClient | undefined;
  #containerReady: Promise<unknown> | undefined;

  constructor(private readonly options: JobStoreOptions) {}

  async create(job: NewJob): Promise<{ id: string; created: number }> {
    const id = randomUUID();
    const now = this.#now();
    const created = Math.floor(now / 1000);
    const entity = {
      partitionKey: escapeRowKey(job.callerId),
      rowKey: id,
      callerId: job.callerId,
      status: "queued" satisfies JobStatus,
      created,
      expiresAt: now + this.options.jobs.retentionMs,
      attempts: 0,
      allowFallback: job.allowFallback,
      requestId: job.requestId,
      ...(job.keyName !== undefined ? { keyName: job.keyName } : {}),
      ...(job.reservation !== undefined ? { reservation: job.reservation } : {}),
      ...(await this.#payload("request", id, job.request)),
    };
    await (await this.#rows()).createEntity(entity, { abortSignal: timeout() });
    return { id, created };
  }

  /** The caller's job, or undefined when there is none: never another caller's, never an expired one. */
  async read(callerId: string, id: string): Promise<JobView | undefined> {
    const entity = await this.#get(callerId, id);
    if (entity === undefined) return undefined;
    const status = entity.status as JobStatus;
    const view: JobView = { id, status, created: Number(entity.created) };
    if (status === "succeeded" || status === "failed") view.result = await this.#result(entity);
    return view;
  }

  /** A worker takes the job: the first run, a run after a dead worker's, or the end of a job whose runs kept dying. */
  async claim(callerId: string, id: string): Promise<JobClaim> {
    const { leaseMs, maxAttempts } = this.options.jobs;
    for (let tries = 0; tries < TRIES; tries++) {
      const entity = await this.#get(callerId, id);
      if (entity === undefined || FINAL.has(entity.status as JobStatus)) return { kind: "gone" };
      const now = this.#now();
      const leaseUntil = Number(entity.leaseUntil ?? 0);
      if (entity.status === "running" && leaseUntil > now) return { kind: "busy", retryInMs: leaseUntil - now + 1_000 };
      const attempts = Number(entity.attempts ?? 0);
      const lease = { callerId, id, etag: entity.etag };
      if (attempts >= maxAttempts) return { kind: "exhausted", lease, requestId: String(entity.requestId) };
      const running = { partitionKey: escapeRowKey(callerId), rowKey: id, status: "running", attempts: attempts + 1, leaseUntil: now + leaseMs };
      try {
        const written = await (await this.#rows()).updateEntity(running, "Merge", { etag: entity.etag, abortSignal: timeout() });
        const request = entity.requestBlob ? await this.#readBlob(String(entity.requestBlob)) : fromPieces("request", entity);
        const run = {
          id,
          callerId,
          attempt: attempts + 1,
          request,
          allowFallback: entity.allowFallback === true,
          requestId: String(entity.requestId),
          ...(typeof entity.keyName === "string" ? { keyName: entity.keyName } : {}),
          ...(typeof entity.reservation === "string" ? { reservation: entity.reservation } : {}),
        };
        return { kind: "run", run, lease: { ...lease, etag: written.etag as string } };
      } catch (error) {
        if (storageStatus(error) !== 412) throw error;
      }
    }
    return { kind: "busy", retryInMs: 1_000 };
  }

  /**
   * Extends a run's lease. `cancelled`: the job was cancelled (stop the run); `lost`: another worker
   * took it over or it is gone (stop, and write nothing). A storage failure throws: the lease holds
   * until it runs out, and the caller tries again at its next beat.
   */
  async renew(lease: JobLease): Promise<"held" | "cancelled" | "lost"> {
    const row = { partitionKey: escapeRowKey(lease.callerId), rowKey: lease.id, leaseUntil: this.#now() + this.options.jobs.leaseMs };
    try {
      const written = await (await this.#rows()).updateEntity(row, "Merge", { etag: lease.etag, abortSignal: timeout() });
      lease.etag = written.etag as string;
      return "held";
    } catch (error) {
      const status = storageStatus(error);
      if (status !== 412 && status !== 404) throw error;
    }
    const now = await this.#get(lease.callerId, lease.id);
    return now?.status === "cancelled" ? "cancelled" : "lost";
  }

  /** Ends a run with its outcome; false when the job was cancelled or taken over meanwhile (nothing written). */
  async finish(lease: JobLease, status: "succeeded" | "failed", result: JobResult): Promise<boolean> {
    const payload = await this.#payload("result", lease.id, result.body);
    const row = {
      partitionKey: escapeRowKey(lease.callerId),
      rowKey: lease.id,
      status,
      leaseUntil: 0,
      resultStatus: result.status,
      resultHeaders: JSON.stringify(result.headers),
      ...payload,
    };
    try {
      const written = await (await this.#rows()).updateEntity(row, "Merge", { etag: lease.etag, abortSignal: timeout() });
      lease.etag = written.etag as string;
      return true;
    } catch (error) {
      const code = storageStatus(error);
      if (code !== 412 && code !== 404) throw error;
      // Refused, so no row names this write's result blob (if it made one).
      if (typeof payload.resultBlob === "string") await (await this.#blobs()).deleteBlob(payload.resultBlob, { abortSignal: timeout() }).catch(() => undefined);
      return false;
    }
  }

  /** Cancels a queued or running job; a job already cancelled stays so, a finished one is left as it is. */
  async cancel(callerId: string, id: string): Promise<"cancelled" | "finished" | "not_found"> {
    for (let tries = 0; tries < TRIES; tries++) {
      const entity = await this.#get(callerId, id);
      if (entity === undefined) return "not_found";
      if (entity.status === "cancelled") return "cancelled";
      if (FINAL.has(entity.status as JobStatus)) return "finished";
      const row = { partitionKey: escapeRowKey(callerId), rowKey: id, status: "cancelled", leaseUntil: 0 };
      try {
        await (await this.#rows()).updateEntity(row, "Merge", { etag: entity.etag, abortSignal: timeout() });
        return "cancelled";
      } catch (error) {
        if (storageStatus(error) !== 412) throw error;
      }
    }
    throw new Error("The job kept changing while it was being cancelled.");
  }

  /**
   * For a job whose message was given up on (the poison queue): ends it with `result` unless it is
   * final already or a live worker still runs it.
   */
  async abandon(callerId: string, id: string, result: (requestId: string) => JobResult): Promise<"abandoned" | "busy" | "gone"> {
    for (let tries = 0; tries < TRIES; tries++) {
      const entity = await this.#get(callerId, id);
      if (entity === undefined || FINAL.has(entity.status as JobStatus)) return "gone";
      if (entity.status === "running" && Number(entity.leaseUntil ?? 0) > this.#now()) return "busy";
      if (await this.finish({ callerId, id, etag: entity.etag }, "failed", result(String(entity.requestId)))) return "abandoned";
    }
    return "busy";
  }

  /** The row, or undefined when there is none or it expired (an expired one is deleted on the way). */
  async #get(callerId: string, id: string): Promise<Entity | undefined> {
    const rows = await this.#rows();
    let entity: Entity;
    try {
      entity = await rows.getEntity<Record<string, unknown>>(escapeRowKey(callerId), id, { abortSignal: timeout() });
    } catch (error) {
      if (storageStatus(error) === 404) return undefined;
      throw error;
    }
    if (Number(entity.expiresAt) > this.#now()) return entity;
    await this.#forget(entity).catch(() => undefined);
    return undefined;
  }

  async #forget(entity: Entity): Promise<void> {
    for (const blob of [entity.requestBlob, entity.resultBlob]) {
      if (typeof blob === "string") await (await this.#blobs()).deleteBlob(blob, { abortSignal: timeout() }).catch(() => undefined);
    }
    await (await this.#rows()).deleteEntity(String(entity.partitionKey), String(entity.rowKey), { etag: entity.etag, abortSignal: timeout() });
  }

  async #result(entity: Entity): Promise<JobResult> {
    const body = entity.resultBlob ? await this.#readBlob(String(entity.resultBlob)) : fromPieces("result", entity);
    return { status: Number(entity.resultStatus), headers: JSON.parse(String(entity.resultHeaders ?? "{}")) as Record<string, string>, body };
  }

  /** `text` as the row's pieces, or as a blob the row names when it is too long for the row. */
  async #payload(name: "request" | "result", id: string, text: string): Promise<Record<string, unknown>> {
    if (Buffer.byteLength(text, "utf8") <= INLINE_BYTES) return toPieces(name, text);
    // A result's blob is named for this write: a worker that lost the job (its finish refused) must not
    // overwrite the blob of the worker that won it.
    const blob = name === "request" ? `${id}/request.json` : `${id}/result-${randomUUID()}.json`;
    await (await this.#blobs())
      .getBlockBlobClient(blob)
      .upload(text, Buffer.byteLength(text, "utf8"), { blobHTTPHeaders: { blobContentType: "application/json" }, abortSignal: timeout() });
    return { [`${name}Blob`]: blob, [`${name}Pieces`]: 0 };
  }

  async #readBlob(name: string): Promise<string> {
    const bytes = await (await this.#blobs()).getBlockBlobClient(name).downloadToBuffer(0, undefined, { abortSignal: AbortSignal.timeout(30_000) });
    return bytes.toString("utf8");
  }

  #now(): number {
    return (this.options.now ?? Date.now)();
  }

  async #rows(): Promise<TableClient> {
    this.#table ??= tableClient(this.options.storage, this.options.jobs.table, this.options.identityClientId);
    const table = this.#table;
    this.#tableReady ??= table.createTable({ abortSignal: timeout() }).catch((error: unknown) => {
      this.#tableReady = undefined;
      throw error;
    });
    await this.#tableReady;
    return table;
  }

  async #blobs(): Promise<ContainerClient> {
    this.#container ??= containerClient(this.options.storage, this.options.jobs.container, this.options.identityClientId);
    const container = this.#container;
    this.#containerReady ??= container.createIfNotExists({ abortSignal: timeout() }).catch((error: unknown) => {
      this.#containerReady = undefined;
      throw error;
    });
    await this.#containerReady;
    return container;
  }
}

const timeout = () => AbortSignal.timeout(STORAGE_TIMEOUT_MS);
