import { createHash } from "node:crypto";
import type { TableClient } from "@azure/data-tables";
import type { StorageConfig } from "../config/types.js";
import { CreatedOnce } from "../storage/created-once.js";
import { dateTime } from "../storage/date-time.js";
import { fromPieces, PIECE_BYTES, storageStatus as statusOf, toPieces } from "../storage/entity-pieces.js";
import { escapeRowKey } from "../storage/row-key.js";
import { tableClient } from "../storage/table-clients.js";

/** An answer as it is kept and replayed: status, headers and the body's JSON text. */
export interface StoredAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** What `begin` found for a caller's key. */
export type Claim =
  /** The key is this request's now: run it, then `finish` or `release`. */
  | { kind: "claimed"; etag: string }
  /** The first request with this key is still running; ask again after `retryAfterSeconds`. */
  | { kind: "running"; retryAfterSeconds: number }
  /** The key was used with another body. */
  | { kind: "reused" }
  /** The first request's answer, to be replayed. */
  | { kind: "done"; answer: StoredAnswer };

export interface IdempotencyStore {
  begin(callerId: string, key: string, fingerprint: string): Promise<Claim>;
  finish(callerId: string, key: string, etag: string, answer: StoredAnswer): Promise<void>;
  release(callerId: string, key: string, etag: string): Promise<void>;
  /** Deletes the keys and answers past their retention; how many. */
  purgeExpired(signal?: AbortSignal): Promise<number>;
}

/** An entity holds 1 MiB in all; a larger answer is not kept (the key is released instead). */
const MAX_BODY_BYTES = 15 * PIECE_BYTES;
/** Every storage call of a request gets this long. */
const STORAGE_TIMEOUT_MS = 5_000;

/**
 * The idempotency keys' table (default `idempotency`, in the AzureWebJobsStorage account): one row per
 * caller and key (PartitionKey the caller's id, escaped; RowKey the key's SHA-256), holding the request's
 * fingerprint, its state (`running` until `leaseUntil`, or `done` with the answer) and when it expires.
 * A key is claimed by creating its row, which only one request can do; a row whose lease ran out (its
 * request died with its instance) or whose retention passed is taken over with an ETag-guarded write,
 * so two retries racing for it cannot both run.
 */
export class TableIdempotencyStore implements IdempotencyStore {
  #client: TableClient | undefined;
  readonly #created = new CreatedOnce(() => this.#tableClient().createTable({ abortSignal: timeout() }));

  constructor(
    private readonly options: {
      storage: StorageConfig;
      tableName: string;
      identityClientId?: string;
      retentionMs: number;
      /** How long a running request holds its key before a retry may take it over. */
      leaseMs: number;
      now?: () => number;
    },
  ) {}

  async begin(callerId: string, key: string, fingerprint: string): Promise<Claim> {
    const client = await this.#table();
    const now = this.#now();
    const row = rowOf(callerId, key);
    const running = {
      ...row,
      fingerprint,
      state: "running",
      leaseUntil: new Date(now + this.options.leaseMs),
      expiresAt: new Date(now + this.options.retentionMs),
    };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const created = await client.createEntity(running, { abortSignal: timeout() });
        return { kind: "claimed", etag: created.etag as string };
      } catch (error) {
        if (statusOf(error) !== 409) throw error;
      }
      let entity: Record<string, unknown> & { etag: string };
      try {
        entity = await client.getEntity<Record<string, unknown>>(row.partitionKey, row.rowKey, { abortSignal: timeout() });
      } catch (error) {
        if (statusOf(error) === 404) continue; // deleted between the two calls: try to create it again
        throw error;
      }
      const expired = Number(entity.expiresAt) <= now;
      const abandoned = entity.state === "running" && Number(entity.leaseUntil) <= now;
      if (expired || abandoned) {
        try {
          const taken = await client.updateEntity(running, "Replace", { etag: entity.etag, abortSignal: timeout() });
          return { kind: "claimed", etag: taken.etag as string };
        } catch (error) {
          if (statusOf(error) === 412 || statusOf(error) === 404) continue; // another request took it first
          throw error;
        }
      }
      if (entity.fingerprint !== fingerprint) return { kind: "reused" };
      if (entity.state === "running")
        return { kind: "running", retryAfterSeconds: Math.max(1, Math.min(30, Math.ceil((Number(entity.leaseUntil) - now) / 1000))) };
      return { kind: "done", answer: answerOf(entity) };
    }
    return { kind: "running", retryAfterSeconds: 1 };
  }

  async finish(callerId: string, key: string, etag: string, answer: StoredAnswer): Promise<void> {
    if (Buffer.byteLength(answer.body, "utf8") > MAX_BODY_BYTES) return this.release(callerId, key, etag);
    const client = await this.#table();
    const entity = {
      ...rowOf(callerId, key),
      state: "done",
      status: answer.status,
      headers: JSON.stringify(answer.headers),
      ...toPieces("body", answer.body),
    };
    // Merge keeps the fingerprint and expiry written when the key was claimed.
    await client.updateEntity(entity, "Merge", { etag, abortSignal: timeout() });
  }

  async release(callerId: string, key: string, etag: string): Promise<void> {
    const client = await this.#table();
    const row = rowOf(callerId, key);
    await client.deleteEntity(row.partitionKey, row.rowKey, { etag, abortSignal: timeout() }).catch((error: unknown) => {
      if (statusOf(error) !== 404 && statusOf(error) !== 412) throw error;
    });
  }

  async purgeExpired(signal?: AbortSignal): Promise<number> {
    const client = await this.#table();
    let deleted = 0;
    for await (const entity of client.listEntities<Record<string, unknown>>({
      queryOptions: { filter: `expiresAt le ${dateTime(this.#now())}` },
      abortSignal: signal,
    })) {
      const row = entity as Record<string, unknown> & { etag: string; partitionKey: string; rowKey: string };
      // Conditional: a key a retry has just taken over again is not deleted under it.
      await client.deleteEntity(row.partitionKey, row.rowKey, { etag: row.etag, abortSignal: timeout() }).then(
        () => deleted++,
        () => undefined,
      );
    }
    return deleted;
  }

  #now(): number {
    return (this.options.now ?? Date.now)();
  }

  async #table(): Promise<TableClient> {
    await this.#created.ensure();
    return this.#tableClient();
  }

  #tableClient(): TableClient {
    this.#client ??= tableClient(this.options.storage, this.options.tableName, this.options.identityClientId);
    return this.#client;
  }
}

/**
 * The caller's id as the partition (escaped for Table Storage), the key as the SHA-256 of it: a key may
 * be 255 characters of anything printable, more than a RowKey holds once `/`, `#` or `?` are escaped.
 */
function rowOf(callerId: string, key: string): { partitionKey: string; rowKey: string } {
  return { partitionKey: escapeRowKey(callerId), rowKey: createHash("sha256").update(key).digest("base64url") };
}

function answerOf(entity: Record<string, unknown>): StoredAnswer {
  return { status: Number(entity.status), headers: JSON.parse(String(entity.headers ?? "{}")) as Record<string, string>, body: fromPieces("body", entity) };
}

const timeout = () => AbortSignal.timeout(STORAGE_TIMEOUT_MS);
