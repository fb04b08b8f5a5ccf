import { TableServiceClient } from "@azure/data-tables";
import type { Secret } from "../config/index.js";

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** Answers "can this app reach its storage account?" with one cheap call (table service properties). */
export class StorageProbe {
  readonly #client: TableServiceClient;

  constructor(connectionString: Secret) {
    const plain = TableServiceClient.fromConnectionString(connectionString.reveal());
    const url = new URL(plain.url);
    // Plain http is for Azurite on this machine only; anywhere else the SDK refuses it.
    const local = url.protocol === "http:" && LOOPBACK.has(url.hostname);
    this.#client = TableServiceClient.fromConnectionString(connectionString.reveal(), {
      allowInsecureConnection: local,
      retryOptions: { maxRetries: 0 },
    });
  }

  async check(signal: AbortSignal): Promise<void> {
    await this.#client.getProperties({ abortSignal: signal });
  }
}
