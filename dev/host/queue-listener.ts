import { setTimeout as sleep } from "node:timers/promises";
import type { QueueOptions } from "./queue-trigger.js";

/** The storage SDK as its ESM build loads it (see QueueTriggers for why that build). */
type StorageQueue = typeof import("@azure/storage-queue", { with: { "resolution-mode": "import" }});
type QueueClient = InstanceType<StorageQueue["QueueClient"]>;

/** A message for a function, as the listener hands it over (decoded, not yet parsed). */
export interface QueueMessage {
  text: string;
  triggerMetadata: Record<string, unknown>;
}

/** A queue the listener polls for one function. */
export interface ListenedQueue {
  queueName: string;
  connectionString: string;
  /** Runs the message's function; resolves to true when it failed. */
  run: (message: QueueMessage) => Promise<boolean>;
}

export interface QueueListenerOptions {
  /** The storage SDK's queue client, loaded by the caller (see QueueTriggers for when). */
  QueueClient: StorageQueue["QueueClient"];
  options: QueueOptions;
  warn: (message: string) => void;
}

interface Polled extends ListenedQueue {
  queue: QueueClient;
  poison: QueueClient;
}

type Received = { messageId: string; popReceipt: string; messageText: string; dequeueCount: number; insertedOn: Date; expiresOn: Date; nextVisibleOn: Date };

/**
 * Polls queues and settles their messages as the Functions host's queue listener does. It polls each
 * queue (backing off while it is empty), takes up to `batchSize` messages at a time (and the next
 * batch once no more than `newBatchThreshold` of them still run), invisible for the lease while they
 * run, and hands each to its queue's `run`. A message whose function succeeded is deleted; one that
 * failed becomes visible again after `visibilityTimeout`, and once it has been taken `maxDequeueCount`
 * times it moves, as it was, to `<queue>-poison`. A host that dies settles nothing: a message it held
 * comes back when its lease runs out.
 */
export class QueueListener {
  #stopped = false;
  readonly #loops: Promise<void>[] = [];
  readonly #running = new Set<Promise<void>>();

  constructor(private readonly listener: QueueListenerOptions) {}

  /** Starts polling the queue; throws, polling nothing, when the SDK refuses its connection string. */
  listen(listened: ListenedQueue): void {
    const { QueueClient } = this.listener;
    const queue = new QueueClient(listened.connectionString, listened.queueName);
    const poison = new QueueClient(listened.connectionString, `${listened.queueName}-poison`);
    this.#loops.push(this.#poll({ ...listened, queue, poison }));
  }

  /** Takes no more messages, and resolves once those it holds are settled. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all([...this.#loops, ...this.#running]);
  }

  async #poll(polled: Polled): Promise<void> {
    const { queue } = polled;
    const { options, warn } = this.listener;
    let wait = 100;
    let created = false;
    const batch = new Set<Promise<void>>();
    while (!this.#stopped) {
      try {
        // Made once, and again only after a poll finds it gone: not a request more on every poll.
        if (!created) await queue.createIfNotExists();
        created = true;
        const { receivedMessageItems: messages } = await queue.receiveMessages({
          numberOfMessages: options.batchSize,
          visibilityTimeout: Math.max(1, Math.ceil(options.leaseMs / 1000)),
        });
        if (messages.length > 0) {
          wait = 100;
          for (const message of messages) {
            const work = this.#track(this.#settle(polled, message)).catch((error: unknown) => {
              // The message was not settled: it comes back when its lease runs out.
              warn(`Message ${message.messageId} of ${polled.queueName} was not settled: ${(error as Error).message}`);
            });
            batch.add(work);
            void work.finally(() => batch.delete(work));
          }
          // As the host does: the next batch is fetched once no more than newBatchThreshold still run.
          while (batch.size > options.newBatchThreshold) await Promise.race(batch);
          continue;
        }
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode === 404) created = false;
        warn(`Queue ${polled.queueName} could not be polled: ${(error as Error).message}`);
      }
      await sleep(wait);
      wait = Math.min(wait * 2, options.maxPollingIntervalMs);
    }
  }

  #track(work: Promise<void>): Promise<void> {
    this.#running.add(work);
    return work.finally(() => this.#running.delete(work));
  }

  async #settle(polled: Polled, message: Received): Promise<void> {
    const { options } = this.listener;
    if (message.dequeueCount > options.maxDequeueCount) {
      // Taken that often without being settled: its runs kill the host. It is not run again.
      await this.#moveToPoison(polled, message);
      return;
    }
    const failed = await polled.run({
      text: options.messageEncoding === "base64" ? Buffer.from(message.messageText, "base64").toString("utf8") : message.messageText,
      triggerMetadata: {
        id: message.messageId,
        popReceipt: message.popReceipt,
        dequeueCount: message.dequeueCount,
        insertionTime: message.insertedOn,
        expirationTime: message.expiresOn,
        nextVisibleTime: message.nextVisibleOn,
      },
    });
    if (!failed) {
      await polled.queue.deleteMessage(message.messageId, message.popReceipt);
    } else if (message.dequeueCount >= options.maxDequeueCount) {
      await this.#moveToPoison(polled, message);
    } else {
      await polled.queue.updateMessage(message.messageId, message.popReceipt, undefined, Math.ceil(options.visibilityTimeoutMs / 1000));
    }
  }

  async #moveToPoison({ queueName, queue, poison }: Polled, message: Received): Promise<void> {
    await poison.createIfNotExists();
    await poison.sendMessage(message.messageText);
    await queue.deleteMessage(message.messageId, message.popReceipt);
    this.listener.warn(`Message ${message.messageId} moved to ${queueName}-poison after ${message.dequeueCount} tries.`);
  }
}
