/**
 * Queue and blob clients as the table clients are: one try of at most 5 s, so a request waits on
 * storage for a bounded time and its caller (or the queue's own redelivery) decides about retrying.
 */
export function storagePipelineOptions() {
  return { retryOptions: { maxTries: 1, tryTimeoutInMs: 5_000 } };
}

/** Storage by identity with no way to find one of its services (see `AzureWebJobsStorage__*ServiceUri`). */
export class StorageServiceMissing extends Error {
  constructor(service: "queue" | "blob") {
    super(`The storage account's ${service} service is not configured: set AzureWebJobsStorage__accountName or AzureWebJobsStorage__${service}ServiceUri.`);
    this.name = "StorageServiceMissing";
  }
}
