import type { QueueClient } from "@azure/storage-queue";
import type { StorageConfig } from "../config/types.js";
import { appIdentity } from "../credentials/app-identity.js";
import { StorageServiceMissing, storagePipelineOptions } from "./service-options.js";

type Queues = typeof import("@azure/storage-queue");

/** One queue of the app's account, by connection string or by the app's managed identity. */
export function queueClient(storage: StorageConfig, queueName: string, identityClientId?: string): QueueClient {
  // require, not import(): the CommonJS build; loaded on first use, as the table SDK is.
  const { QueueClient, QueueServiceClient } = require("@azure/storage-queue") as Queues;
  if (storage.kind === "identity") {
    if (storage.queueEndpoint === undefined) throw new StorageServiceMissing("queue");
    const url = `${storage.queueEndpoint}/${queueName}`;
    return new QueueClient(url, appIdentity(storage.clientId ?? identityClientId), storagePipelineOptions());
  }
  return QueueServiceClient.fromConnectionString(storage.connectionString.reveal(), storagePipelineOptions()).getQueueClient(queueName);
}
