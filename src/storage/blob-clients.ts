import type { ContainerClient } from "@azure/storage-blob";
import type { StorageConfig } from "../config/types.js";
import { appIdentity } from "../credentials/app-identity.js";
import { StorageServiceMissing, storagePipelineOptions } from "./service-options.js";

type Blobs = typeof import("@azure/storage-blob");

/** One blob container of the app's account, by connection string or by the app's managed identity. */
export function containerClient(storage: StorageConfig, containerName: string, identityClientId?: string): ContainerClient {
  // require, not import(): the CommonJS build; loaded on first use, as the table SDK is.
  const { BlobServiceClient, ContainerClient } = require("@azure/storage-blob") as Blobs;
  if (storage.kind === "identity") {
    if (storage.blobEndpoint === undefined) throw new StorageServiceMissing("blob");
    const url = `${storage.blobEndpoint}/${containerName}`;
    return new ContainerClient(url, appIdentity(storage.clientId ?? identityClientId), storagePipelineOptions());
  }
  return BlobServiceClient.fromConnectionString(storage.connectionString.reveal(), storagePipelineOptions()).getContainerClient(containerName);
}
