/**
 * - `unreachable`: no answer (refused connection, DNS, reset);
 * - `throttled`: the service is busy (429, 503 ServerBusy);
 * - `timeout`: no answer within the store's time per storage call;
 * - `conflict`: other instances kept changing the counters, retries ran out;
 * - `rejected`: the credentials or permissions were refused (401, 403);
 * - `storage`: anything else the service answered with, or a connection string it cannot use.
 */
export type QuotaStoreErrorCode = "unreachable" | "throttled" | "timeout" | "conflict" | "rejected" | "storage";

/**
 * Quota storage failed. The message is ours and safe to log or show: it never holds the connection
 * string, the account key, a SAS token or the storage URL, and the storage SDK's error is not kept
 * as `cause` (its request holds the URL and headers).
 */
export class QuotaStoreError extends Error {
  override readonly name = "QuotaStoreError";
  readonly code: QuotaStoreErrorCode;
  /** The storage service's HTTP status, when it answered. */
  readonly status: number | undefined;
  /** The storage service's error code (e.g. `ServerBusy`) or the socket's (e.g. `ECONNREFUSED`). */
  readonly storageCode: string | undefined;

  constructor(code: QuotaStoreErrorCode, message: string, details: { status?: number; storageCode?: string } = {}) {
    super(message);
    this.code = code;
    this.status = details.status;
    this.storageCode = details.storageCode;
  }
}

const SAFE_CODE = /^[A-Za-z0-9_.-]{1,64}$/;

/** The storage SDK's error as a QuotaStoreError; `timedOut` says our own timer aborted the call. */
export function toQuotaStoreError(error: unknown, timedOut: boolean, timeoutMs: number): QuotaStoreError {
  if (error instanceof QuotaStoreError) return error;
  if (timedOut) return new QuotaStoreError("timeout", `Quota storage did not answer within ${timeoutMs} ms.`);
  const { statusCode, code } = (error ?? {}) as { statusCode?: unknown; code?: unknown };
  const status = typeof statusCode === "number" ? statusCode : undefined;
  const storageCode = typeof code === "string" && SAFE_CODE.test(code) ? code : undefined;
  const details = { status, storageCode };
  if (status === undefined) return new QuotaStoreError("unreachable", "Quota storage could not be reached.", details);
  if (isConflict(status, storageCode)) return new QuotaStoreError("conflict", "Quota counters changed during the update.", details);
  if (status === 429 || status === 503) return new QuotaStoreError("throttled", `Quota storage is throttling requests (status ${status}).`, details);
  if (status === 401 || status === 403) return new QuotaStoreError("rejected", `Quota storage refused the credentials (status ${status}).`, details);
  return new QuotaStoreError("storage", `Quota storage failed (status ${status}).`, details);
}

/** 412: an If-Match ETag no longer matches; 409 EntityAlreadyExists: another instance created the row first. */
function isConflict(status: number, storageCode: string | undefined): boolean {
  return status === 412 || (status === 409 && storageCode === "EntityAlreadyExists");
}
