import type { TableClient, TransactionAction } from "@azure/data-tables";
import type { StorageConfig } from "../config/types.js";
import { tableClient } from "../storage/table-clients.js";
import { QuotaStoreError, toQuotaStoreError } from "./quota-store-error.js";

/**
 * The counters' table (default `quotas`, in the AzureWebJobsStorage account):
 *
 * | Column         | Value                                                                          |
 * |----------------|--------------------------------------------------------------------------------|
 * | PartitionKey   | the window, a UTC minute stamp `YYYYMMDDHHmm` (window.ts)                      |
 * | RowKey         | the counter key, e.g. `caller:key:dev`, `deployment:mistral-large`, escaped    |
 * |                | for Table Storage (row-key.ts)                                                 |
 * | requests       | Edm.Int32: requests admitted in the window (never above the limit, itself     |
 * |                | at most 2^31 - 1)                                                              |
 * | tokens         | Edm.Double: tokens reserved at admission plus every charge. A double holds     |
 * |                | every integer up to 2^53 exactly and reads back as a JS number, where Int64    |
 * |                | reads back as a bigint and Int32 would need a cap that over-long streams could |
 * |                | hit; usage can pass the limit (see the overshoot bound), so no cap is wanted   |
 * | expiresAt      | Edm.DateTime: the window's end plus `RETENTION_MS`; after it no admission or   |
 * |                | charge writes the row and a clean-up may delete it                             |
 *
 * All counters of one window share a partition, so one entity-group transaction writes a caller's
 * and a deployment's rows (and any others a batch touches) together or not at all, each row
 * conditional on the ETag it was read with (`If-Match`), or created when it was absent (which fails
 * if another instance created it first).
 *
 * Old windows are left in place: a few small rows per caller and deployment per minute cost next to
 * nothing, and no request reads them again. `deleteWindowsBefore` removes them when something (a
 * timer, an operator) asks; it is never on the request path. `RETENTION_MS` outlasts the longest
 * answer (the platform cuts responses at 230 s), so a late charge still finds its row; one later
 * than that would only recreate a row with no requests, which the next clean-up removes.
 */
export const RETENTION_MS = 10 * 60_000;

/** A row as read: `etag` undefined means there is no row yet. */
export interface StoredRow {
  readonly requests: number;
  readonly tokens: number;
  readonly etag: string | undefined;
}

export interface RowWrite {
  readonly rowKey: string;
  readonly requests: number;
  readonly tokens: number;
  /** The ETag the new figures were computed from; undefined creates the row. */
  readonly etag: string | undefined;
}

/** A clean-up pages through and deletes many rows: it gets longer than one request's call. */
const PURGE_TIMEOUT_MS = 60_000;

/** An entity-group transaction holds at most 100 operations. */
export const MAX_TRANSACTION_ROWS = 100;

export class QuotaTable {
  #client: TableClient | undefined;
  #created: Promise<void> | undefined;

  constructor(
    private readonly storage: StorageConfig,
    readonly tableName: string,
    private readonly timeoutMs: number,
    private readonly identityClientId?: string,
  ) {}

  /** The rows of `window` named by `rowKeys`, read in parallel; a missing row is all zeros with no ETag. */
  read(window: string, rowKeys: readonly string[]): Promise<Map<string, StoredRow>> {
    return this.#call(async (client, abortSignal) => {
      const rows = await Promise.all(
        rowKeys.map(async (rowKey): Promise<[string, StoredRow]> => {
          try {
            const entity = await client.getEntity<Record<string, unknown>>(window, rowKey, { abortSignal });
            return [rowKey, { requests: count(entity.requests), tokens: count(entity.tokens), etag: entity.etag }];
          } catch (error) {
            if (isEntityNotFound(error)) return [rowKey, { requests: 0, tokens: 0, etag: undefined }];
            throw error;
          }
        }),
      );
      return new Map(rows);
    });
  }

  /**
   * Writes the rows of `window` in one transaction and answers each row's new ETag (undefined when
   * the service did not say). A row changed or created since it was read fails the whole transaction
   * with a `conflict` QuotaStoreError, and nothing is written.
   */
  write(window: string, writes: readonly RowWrite[], expiresAt: Date): Promise<Map<string, string | undefined>> {
    return this.#call(async (client, abortSignal) => {
      const actions = writes.map((write): TransactionAction => {
        const entity = {
          partitionKey: window,
          rowKey: write.rowKey,
          requests: { value: write.requests, type: "Int32" as const },
          tokens: { value: write.tokens, type: "Double" as const },
          expiresAt,
        };
        return write.etag === undefined ? ["create", entity] : ["update", entity, "Replace", { etag: write.etag }];
      });
      const response = await client.submitTransaction(actions, { abortSignal });
      // Sub-responses come in the order of the changeset's operations.
      const etags = response.subResponses.length === writes.length ? response.subResponses.map((r) => r.etag) : [];
      return new Map(writes.map((write, i) => [write.rowKey, etags[i]]));
    });
  }

  /** Deletes every row of the windows before `window` (stamps sort as times do); answers how many. */
  deleteWindowsBefore(window: string, signal?: AbortSignal): Promise<number> {
    return this.#call(
      async (client, abortSignal) => {
        let deleted = 0;
        const pages = client.listEntities({ abortSignal, queryOptions: { filter: `PartitionKey lt '${window}'` } }).byPage({ maxPageSize: 1000 });
        for await (const page of pages) {
          const byWindow = new Map<string, TransactionAction[]>();
          for (const entity of page) {
            const partitionKey = entity.partitionKey ?? "";
            const actions = byWindow.get(partitionKey) ?? [];
            actions.push(["delete", { partitionKey, rowKey: entity.rowKey ?? "" }]);
            byWindow.set(partitionKey, actions);
          }
          for (const actions of byWindow.values()) {
            for (let i = 0; i < actions.length; i += MAX_TRANSACTION_ROWS) {
              const chunk = actions.slice(i, i + MAX_TRANSACTION_ROWS);
              try {
                await client.submitTransaction(chunk, { abortSignal });
                deleted += chunk.length;
              } catch (error) {
                // Another instance's clean-up deleted some of these first: theirs, not a failure.
                if (!isEntityNotFound(error)) throw error;
              }
            }
          }
        }
        return deleted;
      },
      signal,
      PURGE_TIMEOUT_MS,
    );
  }

  /**
   * Runs one storage call with the store's time limit (and the caller's signal, if any); the
   * storage SDK's errors come out as QuotaStoreError, the caller's abort as its own reason.
   */
  async #call<T>(run: (client: TableClient, abortSignal: AbortSignal) => Promise<T>, signal?: AbortSignal, timeoutMs = this.timeoutMs): Promise<T> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const abortSignal = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      const client = this.#tableClient();
      await this.#ensureTable(client, abortSignal);
      return await run(client, abortSignal);
    } catch (error) {
      if (signal?.aborted && !timeout.aborted) throw signal.reason;
      if (isTableNotFound(error)) this.#created = undefined;
      throw toQuotaStoreError(error, timeout.aborted, timeoutMs);
    }
  }

  /** Once per instance; concurrent first calls share it, and a failure lets the next call try again. */
  #ensureTable(client: TableClient, abortSignal: AbortSignal): Promise<void> {
    this.#created ??= client.createTable({ abortSignal }).catch((error: unknown) => {
      this.#created = undefined;
      throw error;
    });
    return this.#created;
  }

  /**
   * Built on first use, so the storage SDK loads only when quotas are used and a connection string
   * it cannot read fails a quota call, not start-up.
   */
  #tableClient(): TableClient {
    if (this.#client) return this.#client;
    try {
      this.#client = tableClient(this.storage, this.tableName, this.identityClientId);
    } catch {
      // The SDK's message may quote the connection string.
      throw new QuotaStoreError("storage", "The storage connection string cannot be used for quotas.");
    }
    return this.#client;
  }
}

function count(value: unknown): number {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "bigint") return Number(value);
  return 0;
}

function storageError(error: unknown): { statusCode?: unknown; code?: unknown } {
  return (typeof error === "object" && error !== null ? error : {}) as { statusCode?: unknown; code?: unknown };
}

function isEntityNotFound(error: unknown): boolean {
  const { statusCode, code } = storageError(error);
  return statusCode === 404 && code !== "TableNotFound";
}

function isTableNotFound(error: unknown): boolean {
  const { statusCode, code } = storageError(error);
  return statusCode === 404 && code === "TableNotFound";
}
