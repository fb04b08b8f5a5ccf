import type { QueueClient } from "@azure/storage-queue";
import type { StorageConfig } from "../config/types.js";
import { CreatedOnce } from "../storage/created-once.js";
import { queueClient } from "../storage/queue-clients.js";
import type { JobMessage } from "./job-types.js";

/** How long a message is kept in the queue: as long as the job's own retention, at most the queue's 7 days. */
const MAX_TTL_SECONDS = 7 * 24 * 3_600;

/**
 * The queue jobs wait in (JOB_QUEUE). Messages are base64 JSON, the encoding the Functions host's
 * queue trigger expects by default (host.json `extensions.queues.messageEncoding`).
 */
export class JobQueue {
  // Built on first use: start-up loads no queue SDK, and a missing service fails the request, not the app.
  #client: QueueClient | undefined;
  readonly #created = new CreatedOnce(() => this.#queueClient().createIfNotExists({ abortSignal: AbortSignal.timeout(5_000) }));

  constructor(private readonly options: { storage: StorageConfig; identityClientId?: string; queue: string; retentionMs: number }) {}

  /** Sends a job's message; `visibleInMs` holds it back (a job another worker still runs is looked at again later). */
  async send(message: JobMessage, visibleInMs = 0): Promise<void> {
    const client = await this.#queue();
    const text = Buffer.from(JSON.stringify(message), "utf8").toString("base64");
    const messageTimeToLive = Math.min(MAX_TTL_SECONDS, Math.ceil(this.options.retentionMs / 1000));
    await client.sendMessage(text, {
      messageTimeToLive,
      visibilityTimeout: Math.min(messageTimeToLive - 1, Math.ceil(visibleInMs / 1000)),
      abortSignal: AbortSignal.timeout(5_000),
    });
  }

  /**
   * Readiness: the queue can be read with the app's credentials (a peek, the call the worker's role
   * allows). A queue not created yet (locally, before the first job) still proves the service answers.
   */
  async check(signal: AbortSignal): Promise<void> {
    try {
      await this.#queueClient().peekMessages({ numberOfMessages: 1, abortSignal: signal });
    } catch (error) {
      if ((error as { statusCode?: unknown }).statusCode !== 404) throw error;
    }
  }

  async #queue(): Promise<QueueClient> {
    await this.#created.ensure();
    return this.#queueClient();
  }

  #queueClient(): QueueClient {
    this.#client ??= queueClient(this.options.storage, this.options.queue, this.options.identityClientId);
    return this.#client;
  }
}

/** A queue message's content as the trigger hands it over (parsed JSON), checked. */
export function jobMessageOf(value: unknown): JobMessage | undefined {
  const message = value as Partial<JobMessage> | null;
  if (typeof message?.callerId !== "string" || typeof message.id !== "string") return undefined;
  return { callerId: message.callerId, id: message.id };
}
