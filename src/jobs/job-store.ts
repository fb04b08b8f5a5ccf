import { randomUUID } from "node:crypto";
import type { TableClient } from "@azure/data-tables";
import type { ContainerClient } from "@azure/storage-blob";
import type { JobsConfig } from "../config/jobs.js";
import type { StorageConfig } from "../config/types.js";
import { containerClient } from "../storage/blob-clients.js";
import { CreatedOnce } from "../storage/created-once.js";
import { dateTime } from "../storage/date-time.js";
import { fromPieces, storageStatus, toPieces } from "../storage/entity-pieces.js";
import { escapeRowKey } from "../storage/row-key.js";
import { tableClient } from "../storage/table-clients.js";
import { FINAL, type JobClaim, type JobLease, type JobMessage, type JobResult, type JobStatus, type JobView, type NewJob } from "./job-types.js";

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
  // Built on first use: start-up loads no storage SDK, and a missing service fails the request, not the app.
  #table: TableClient | undefined;
  #container: ContainerClient | undefined;
  readonly #tableCreated = new CreatedOnce(() => this.#tableClient().createTable({ abortSignal: timeout() }));
  readonly #containerCreated = new CreatedOnce(() => this.#containerClient().createIfNotExists({ abortSignal: timeout() }));

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
      expiresAt: new Date(now + this.options.jobs.retentionMs),
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
      const runId = randomUUID();
      const running = {
        partitionKey: escapeRowKey(callerId),
        rowKey: id,
        status: "running",
        attempts: attempts + 1,
        leaseUntil: new Date(now + leaseMs),
        runId,
      };
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
        return { kind: "run", run, lease: { ...lease, etag: written.etag as string, runId } };
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
    const row = { partitionKey: escapeRowKey(lease.callerId), rowKey: lease.id, leaseUntil: new Date(this.#now() + this.options.jobs.leaseMs) };
    return this.#writeIfOurs(lease, row, "held");
  }

  /** Ends a run with its outcome; false when the job was cancelled or taken over meanwhile (nothing written). */
  async finish(lease: JobLease, status: "succeeded" | "failed", result: JobResult): Promise<boolean> {
    const payload = await this.#payload("result", lease.id, result.body);
    const row = {
      partitionKey: escapeRowKey(lease.callerId),
      rowKey: lease.id,
      status,
      leaseUntil: new Date(0),
      resultStatus: result.status,
      resultHeaders: JSON.stringify(result.headers),
      ...payload,
    };
    if ((await this.#writeIfOurs(lease, row, "written")) === "written") return true;
    // Refused, so no row names this write's result blob (if it made one).
    if (typeof payload.resultBlob === "string") await (await this.#blobs()).deleteBlob(payload.resultBlob, { abortSignal: timeout() }).catch(() => undefined);
    return false;
  }

  /**
   * A conditional write of the lease's row. When the ETag no longer matches, the row is read again: if it
   * is still this run's (its token; the last write went through but its answer was lost), the write is
   * made again on the new ETag; if the job was cancelled, or another run holds it, nothing is written.
   */
  async #writeIfOurs<T extends string>(lease: JobLease, row: Record<string, unknown>, written: T): Promise<T | "cancelled" | "lost"> {
    for (let tries = 0; tries < TRIES; tries++) {
      try {
        const answer = await (await this.#rows()).updateEntity(row as { partitionKey: string; rowKey: string }, "Merge", {
          etag: lease.etag,
          abortSignal: timeout(),
        });
        lease.etag = answer.etag as string;
        return written;
      } catch (error) {
        const status = storageStatus(error);
        if (status !== 412 && status !== 404) throw error;
      }
      const now = await this.#get(lease.callerId, lease.id);
      if (now?.status === "cancelled") return "cancelled";
      const ours = lease.runId !== undefined && now?.status === "running" && now.runId === lease.runId;
      if (!ours || now === undefined) return "lost";
      lease.etag = now.etag;
    }
    return "lost";
  }

  /** Cancels a queued or running job; a job already cancelled stays so, a finished one is left as it is. */
  async cancel(callerId: string, id: string): Promise<"cancelled" | "finished" | "not_found"> {
    for (let tries = 0; tries < TRIES; tries++) {
      const entity = await this.#get(callerId, id);
      if (entity === undefined) return "not_found";
      if (entity.status === "cancelled") return "cancelled";
      if (FINAL.has(entity.status as JobStatus)) return "finished";
      const row = { partitionKey: escapeRowKey(callerId), rowKey: id, status: "cancelled", leaseUntil: new Date(0) };
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

  /**
   * The sweeper's part (a timer, every few minutes): deletes expired jobs with their blobs, so nothing
   * a caller sent or got is kept past the retention window whether or not it is read again; and
   * returns the jobs no worker will otherwise finish: running with a lease that ran out a lease ago
   * (its worker died and its message is gone), or queued for longer than `queuedGraceMs` (its message
   * lost, e.g. to a poison queue whose handler could not reach storage). Their messages are sent again;
   * a duplicate is harmless, as taking a job is a conditional write.
   */
  async sweep(queuedGraceMs: number, signal?: AbortSignal): Promise<{ deleted: number; stale: JobMessage[] }> {
    const rows = await this.#rows();
    const now = this.#now();
    let deleted = 0;
    const stale: JobMessage[] = [];
    const lapsed = now - this.options.jobs.leaseMs;
    const filter = [
      `expiresAt le ${dateTime(now)}`,
      `(status eq 'running' and leaseUntil lt ${dateTime(lapsed)})`,
      `(status eq 'queued' and created lt ${Math.floor((now - queuedGraceMs) / 1000)})`,
    ].join(" or ");
    for await (const entity of rows.listEntities<Record<string, unknown>>({ queryOptions: { filter }, abortSignal: signal })) {
      const row = entity as Entity;
      if (Number(row.expiresAt) <= now) {
        await this.#forget(row).catch(() => undefined);
        deleted++;
      } else if (typeof row.callerId === "string") {
        stale.push({ callerId: row.callerId, id: String(row.rowKey) });
      }
    }
    return { deleted, stale };
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
    await this.#tableCreated.ensure();
    return this.#tableClient();
  }

  async #blobs(): Promise<ContainerClient> {
    await this.#containerCreated.ensure();
    return this.#containerClient();
  }

  #tableClient(): TableClient {
    this.#table ??= tableClient(this.options.storage, this.options.jobs.table, this.options.identityClientId);
    return this.#table;
  }

  #containerClient(): ContainerClient {
    this.#container ??= containerClient(this.options.storage, this.options.jobs.container, this.options.identityClientId);
    return this.#container;
  }
}

const timeout = () => AbortSignal.timeout(STORAGE_TIMEOUT_MS);
