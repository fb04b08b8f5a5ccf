import type { TableServiceClient } from "@azure/data-tables";
import type { StorageConfig } from "../config/types.js";
import { tableServiceClient } from "./table-clients.js";

/** Answers "can this app reach its storage account?" with one cheap call (table service properties). */
export class StorageProbe {
  #client: TableServiceClient | undefined;

  constructor(
    private readonly storage: StorageConfig,
    private readonly identityClientId?: string,
  ) {}

  async check(signal: AbortSignal): Promise<void> {
    // Built on first use: a connection string the SDK cannot read fails this check, not start-up.
    this.#client ??= tableServiceClient(this.storage, this.identityClientId);
    await this.#client.getProperties({ abortSignal: signal });
  }
}
