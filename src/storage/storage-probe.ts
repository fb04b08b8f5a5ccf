import type { TableServiceClient } from "@azure/data-tables";
import type { Secret } from "../config/index.js";
import { isPlainLocal } from "../config/loopback.js";


/** Answers "can this app reach its storage account?" with one cheap call (table service properties). */
export class StorageProbe {
  #client: TableServiceClient | undefined;

  constructor(private readonly connectionString: Secret) {}

  async check(signal: AbortSignal): Promise<void> {
    this.#client ??= this.#createClient();
    await this.#client.getProperties({ abortSignal: signal });
  }

  /**
   * Built on first use: a connection string the SDK cannot read fails this check, not start-up, and
   * the storage SDK is loaded only when something needs it.
   */
  #createClient(): TableServiceClient {
    // require, not import(): the CommonJS build, like the rest of the app.
    const { TableServiceClient } = require("@azure/data-tables") as typeof import("@azure/data-tables");
    const plain = TableServiceClient.fromConnectionString(this.connectionString.reveal());
    // Plain http is for Azurite on this machine only; anywhere else the SDK refuses it.
    const local = isPlainLocal(new URL(plain.url));
    return TableServiceClient.fromConnectionString(this.connectionString.reveal(), {
      allowInsecureConnection: local,
      retryOptions: { maxRetries: 0 },
    });
  }
}
