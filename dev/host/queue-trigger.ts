import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { QueueClient } from "@azure/storage-queue";
import { azuriteConnectionString, DEFAULT_AZURITE_PORTS } from "../stack/local-settings.js";
import type { CoreApi } from "./core-api.js";
import type { FunctionsLibrary } from "./direct-invoker.js";
import { invokeTriggered, type TriggeredFunction, triggeredFunctions } from "./triggered-function.js";

/**
 * `extensions.queues` of host.json, with the Functions host's defaults. NOTE: the host's default
 * longest wait between polls of an empty queue is a minute; the local host's is 2 s, so a queued item
 * is picked up about as soon as a developer looks for it.
 */
export interface QueueOptions {
  /** The longest wait between polls of an empty queue; the waits grow to it from 100 ms. */
  maxPollingIntervalMs: number;
  /** How long a message whose function failed stays invisible before it is tried again. */
  visibilityTimeoutMs: number;
  batchSize: number;
  /** When this few of a queue's messages are still running, the next batch is fetched (the host's default: half a batch). */
  newBatchThreshold: number;
  /** Tries before a message goes to `<queue>-poison`. */
  maxDequeueCount: number;
  messageEncoding: "base64" | "none";
  /**
   * How long a message stays invisible while its function runs (the host's is 10 minutes, renewed
   * while it runs; here it is not renewed, so it must outlast the longest run): after a crash it is
   * what decides when the message is tried again. `FUNCTIONS_HOST_QUEUE_LEASE_MS` sets it locally.
   */
  leaseMs: number;
}

interface HostJsonQueues {
  maxPollingInterval?: string | number;
  visibilityTimeout?: string | number;
  batchSize?: number;
  newBatchThreshold?: number;
  maxDequeueCount?: number;
  messageEncoding?: string;
}

/** Reads `extensions.queues` from the app's host.json. */
export function queueOptions(appRoot: string, env: NodeJS.ProcessEnv = process.env): QueueOptions {
  let queues: HostJsonQueues = {};
  try {
    queues = (JSON.parse(readFileSync(resolve(appRoot, "host.json"), "utf8")) as { extensions?: { queues?: HostJsonQueues } }).extensions?.queues ?? {};
  } catch {
    // No host.json: the defaults.
  }
  return {
    maxPollingIntervalMs: duration(queues.maxPollingInterval, 2_000),
    visibilityTimeoutMs: duration(queues.visibilityTimeout, 0),
    batchSize: queues.batchSize ?? 16,
    newBatchThreshold: queues.newBatchThreshold ?? Math.floor((queues.batchSize ?? 16) / 2),
    maxDequeueCount: queues.maxDequeueCount ?? 5,
    messageEncoding: queues.messageEncoding?.toLowerCase() === "none" ? "none" : "base64",
    leaseMs: Number(env.FUNCTIONS_HOST_QUEUE_LEASE_MS ?? 600_000),
  };
}

/** host.json writes durations as `hh:mm:ss` time spans (or milliseconds as a number). */
function duration(value: string | number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value === "number") return value;
  const match = /^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(value.trim());
  if (!match) throw new Error(`host.json: ${value} is not a time span (hh:mm:ss)`);
  return Math.round((Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3])) * 1000);
}

/** A registered function with a storage queue trigger. */
interface QueueFunction extends TriggeredFunction {
  queueName: string;
  /** The app setting holding the storage connection string. */
  connection: string;
}

export function queueFunctions(core: CoreApi): QueueFunction[] {
  return triggeredFunctions(core, "queueTrigger").map((fn) => ({
    ...fn,
    queueName: String(fn.binding.queueName),
    connection: String(fn.binding.connection ?? "AzureWebJobsStorage"),
  }));
}

/**
 * Runs queue-triggered functions as the Functions host does: polls each queue (backing off while it
 * is empty), takes up to `batchSize` messages at a time (and the next batch once no more than
 * `newBatchThreshold` of them still run), invisible for the lease while they run, and
 * calls the function with the message (decoded from base64 unless host.json says `none`, and parsed
 * when it is JSON). A message whose function succeeds is deleted; one that fails becomes visible again
 * after `visibilityTimeout`, and once it has been taken `maxDequeueCount` times it moves, as it was,
 * to `<queue>-poison`. A message taken by a host that then died comes back when its lease runs out.
 */
export class QueueTriggers {
  #stopped = false;
  readonly #loops: Promise<void>[] = [];
  readonly #running = new Set<Promise<void>>();

  constructor(
    private readonly core: CoreApi,
    private readonly library: FunctionsLibrary,
    private readonly options: QueueOptions,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  start(functions: readonly QueueFunction[]): void {
    for (const fn of functions) {
      let queues: [QueueClient, QueueClient];
      try {
        queues = [this.#queue(fn, fn.queueName), this.#queue(fn, `${fn.queueName}-poison`)];
      } catch (error) {
        // As the Functions host does, the app still starts; only this function does not run.
        this.core.log("warning", "system", `Function ${fn.name} will not run: ${(error as Error).message}`);
        continue;
      }
      this.#loops.push(this.#poll(fn, ...queues));
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all([...this.#loops, ...this.#running]);
  }

  async #poll(fn: QueueFunction, queue: QueueClient, poison: QueueClient): Promise<void> {
    let wait = 100;
    const running = new Set<Promise<void>>();
    while (!this.#stopped) {
      try {
        await queue.createIfNotExists();
        const { receivedMessageItems: messages } = await queue.receiveMessages({
          numberOfMessages: this.options.batchSize,
          visibilityTimeout: Math.max(1, Math.ceil(this.options.leaseMs / 1000)),
        });
        if (messages.length > 0) {
          wait = 100;
          for (const message of messages) {
            const work = this.#track(this.#process(fn, queue, poison, message)).catch((error: unknown) => {
              // The message was not settled: it comes back when its lease runs out.
              this.core.log("warning", "system", `Message ${message.messageId} of ${fn.queueName} was not settled: ${(error as Error).message}`);
            });
            running.add(work);
            void work.finally(() => running.delete(work));
          }
          // As the host does: the next batch is fetched once no more than newBatchThreshold still run.
          while (running.size > this.options.newBatchThreshold) await Promise.race(running);
          continue;
        }
      } catch (error) {
        this.core.log("warning", "system", `Queue ${fn.queueName} could not be polled: ${(error as Error).message}`);
      }
      await sleep(wait);
      wait = Math.min(wait * 2, this.options.maxPollingIntervalMs);
    }
  }

  #track(work: Promise<void>): Promise<void> {
    this.#running.add(work);
    return work.finally(() => this.#running.delete(work));
  }

  async #process(
    fn: QueueFunction,
    queue: QueueClient,
    poison: QueueClient,
    message: { messageId: string; popReceipt: string; messageText: string; dequeueCount: number; insertedOn: Date; expiresOn: Date; nextVisibleOn: Date },
  ): Promise<void> {
    const text = this.options.messageEncoding === "base64" ? Buffer.from(message.messageText, "base64").toString("utf8") : message.messageText;
    const triggerMetadata = {
      id: message.messageId,
      popReceipt: message.popReceipt,
      dequeueCount: message.dequeueCount,
      insertionTime: message.insertedOn,
      expirationTime: message.expiresOn,
      nextVisibleTime: message.nextVisibleOn,
    };
    if (message.dequeueCount > this.options.maxDequeueCount) {
      // Taken that often without being settled: its runs kill the host. It is not run again.
      await this.#poison(fn, queue, poison, message);
      return;
    }
    let failed = false;
    try {
      await this.#invoke(fn, parsed(text), triggerMetadata);
    } catch (error) {
      failed = true;
      this.core.log("error", "user", `[${fn.name}] failed (dequeue count ${message.dequeueCount}): ${(error as Error)?.message ?? String(error)}`);
    }
    if (!failed) {
      await queue.deleteMessage(message.messageId, message.popReceipt);
    } else if (message.dequeueCount >= this.options.maxDequeueCount) {
      await this.#poison(fn, queue, poison, message);
    } else {
      await queue.updateMessage(message.messageId, message.popReceipt, undefined, Math.ceil(this.options.visibilityTimeoutMs / 1000));
    }
  }

  async #poison(
    fn: QueueFunction,
    queue: QueueClient,
    poison: QueueClient,
    message: { messageId: string; popReceipt: string; messageText: string; dequeueCount: number },
  ): Promise<void> {
    await poison.createIfNotExists();
    await poison.sendMessage(message.messageText);
    await queue.deleteMessage(message.messageId, message.popReceipt);
    this.core.log("warning", "system", `Message ${message.messageId} moved to ${fn.queueName}-poison after ${message.dequeueCount} tries.`);
  }

  #invoke(fn: QueueFunction, input: unknown, triggerMetadata: Record<string, unknown>): Promise<void> {
    return invokeTriggered(this.core, this.library, fn, input, triggerMetadata);
  }

  #queue(fn: QueueFunction, name: string): QueueClient {
    const { QueueClient } = require("@azure/storage-queue") as typeof import("@azure/storage-queue");
    return new QueueClient(connectionString(this.env[fn.connection], fn.connection), name);
  }
}

/** The host hands a JSON message to the function parsed, anything else as the string it is. */
function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** `UseDevelopmentStorage=true` is Azurite on its default ports, as the Functions host reads it. */
function connectionString(value: string | undefined, setting: string): string {
  if (!value) throw new Error(`The queue trigger's connection setting ${setting} is not set (identity-based queues are not supported locally).`);
  if (/^UseDevelopmentStorage=true;?$/i.test(value.trim())) {
    return azuriteConnectionString(DEFAULT_AZURITE_PORTS);
  }
  return value;
}
