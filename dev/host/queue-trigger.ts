import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { azuriteConnectionString, DEFAULT_AZURITE_PORTS } from "../stack/local-settings.js";
import type { CoreApi } from "./core-api.js";
import type { FunctionsLibrary } from "./direct-invoker.js";
import { type ListenedQueue, QueueListener, type QueueListenerOptions, type QueueMessage } from "./queue-listener.js";
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
 * Runs queue-triggered functions as the Functions host does: the polling, the leases and the settling
 * of messages are the listener's (queue-listener.ts); the host runs each message's function. In Azure
 * the listener is the Functions host's, in another process than the Node worker; here it runs in the
 * host's process, as one event loop settles a message and starts the next function without a hop
 * between processes (on two cores a burst of jobs ran about 15% faster than with the listener in a
 * process of its own). The price is the storage SDK in the host's memory, about 20 MiB. The SDK is
 * loaded once the host serves, by an ESM import: its files are read while the host answers requests,
 * and the longest stall of the event loop is about 15 ms, where a require stalls it for 60 ms.
 */
export class QueueTriggers {
  #listener: Promise<QueueListener | undefined> | undefined;

  constructor(
    private readonly core: CoreApi,
    private readonly options: QueueOptions,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** Listens for the app's queue-triggered functions, run with the library's classes. */
  start(functions: readonly QueueFunction[], library: FunctionsLibrary): void {
    const listened: Array<ListenedQueue & { name: string }> = [];
    for (const fn of functions) {
      try {
        const connection = connectionString(this.env[fn.connection], fn.connection);
        listened.push({ name: fn.name, queueName: fn.queueName, connectionString: connection, run: (message) => this.#run(fn, message, library) });
      } catch (error) {
        this.#wontRun(fn.name, error);
      }
    }
    if (listened.length > 0) this.#listener = this.#listen(listened);
  }

  /** Takes no more messages, and resolves once those it holds are settled. */
  async stop(): Promise<void> {
    const listener = await this.#listener;
    this.#listener = undefined;
    await listener?.stop();
  }

  async #listen(listened: Array<ListenedQueue & { name: string }>): Promise<QueueListener | undefined> {
    let QueueClient: QueueListenerOptions["QueueClient"];
    try {
      ({ QueueClient } = await import("@azure/storage-queue"));
    } catch (error) {
      this.core.log("error", "system", `The storage SDK did not load: queue-triggered functions do not run (${(error as Error).message}).`);
      return undefined;
    }
    const listener = new QueueListener({ QueueClient, options: this.options, warn: (message) => this.core.log("warning", "system", message) });
    for (const queue of listened) {
      try {
        listener.listen(queue);
      } catch (error) {
        this.#wontRun(queue.name, error);
      }
    }
    return listener;
  }

  /** As the Functions host does, the app still starts; only this function does not run. */
  #wontRun(name: string, error: unknown): void {
    this.core.log("warning", "system", `Function ${name} will not run: ${(error as Error).message}`);
  }

  /** Runs the message's function; true when it failed. */
  async #run(fn: QueueFunction, { text, triggerMetadata }: QueueMessage, library: FunctionsLibrary): Promise<boolean> {
    try {
      await invokeTriggered(this.core, library, fn, parsed(text), triggerMetadata);
      return false;
    } catch (error) {
      this.core.log("error", "user", `[${fn.name}] failed (dequeue count ${triggerMetadata.dequeueCount}): ${(error as Error)?.message ?? String(error)}`);
      return true;
    }
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
