import { type ChildProcess, fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
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

/** What the host tells the listener to do: which queues to poll, and how. */
export interface ListenerStart {
  kind: "start";
  functions: Array<{ name: string; queueName: string; connectionString: string }>;
  options: QueueOptions;
}

/** A message for a function, as the listener hands it over (decoded, not yet parsed). */
export interface QueueMessage {
  kind: "message";
  call: number;
  fn: string;
  text: string;
  triggerMetadata: Record<string, unknown>;
}

/** What the listener tells the host. */
export type ListenerMessage = QueueMessage | { kind: "log"; level: "warning" | "error"; message: string } | { kind: "stopped" };

/**
 * Runs queue-triggered functions as the Functions host does. The polling, the leases and the settling
 * of messages are the listener's (queue-listener.ts), in a process of its own as the Functions host's
 * listeners are not in the Node worker; the host runs each message's function and tells the listener
 * whether it failed.
 */
export class QueueTriggers {
  #listener: ChildProcess | undefined;
  #library: FunctionsLibrary | undefined;
  readonly #running = new Set<Promise<void>>();
  readonly #functions = new Map<string, QueueFunction>();

  /**
   * Starts the listener's process at once, before the app is loaded: it loads the storage SDK
   * meanwhile, on another core, and polls as soon as the app's functions are known.
   */
  constructor(
    private readonly core: CoreApi,
    private readonly options: QueueOptions,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    // Advanced serialisation: the trigger metadata's dates arrive as dates.
    const listener = fork(join(__dirname, "queue-listener.js"), [], { serialization: "advanced", stdio: ["ignore", "inherit", "inherit", "ipc"] });
    listener.on("message", (message: ListenerMessage) => this.#heard(listener, message));
    listener.on("exit", (code, signal) => {
      if (this.#listener === listener)
        this.core.log("error", "system", `The queue listener stopped (${signal ?? `exit code ${code}`}): queue-triggered functions no longer run.`);
    });
    this.#listener = listener;
  }

  /** Listens for the app's queue-triggered functions, run with the library's classes; with none, the listener ends. */
  start(functions: readonly QueueFunction[], library: FunctionsLibrary): void {
    this.#library = library;
    const listened: ListenerStart["functions"] = [];
    for (const fn of functions) {
      try {
        listened.push({ name: fn.name, queueName: fn.queueName, connectionString: connectionString(this.env[fn.connection], fn.connection) });
        this.#functions.set(fn.name, fn);
      } catch (error) {
        // As the Functions host does, the app still starts; only this function does not run.
        this.core.log("warning", "system", `Function ${fn.name} will not run: ${(error as Error).message}`);
      }
    }
    if (listened.length === 0) {
      void this.stop();
      return;
    }
    this.#listener?.send({ kind: "start", functions: listened, options: this.options } satisfies ListenerStart);
  }

  /** The listener stops taking messages and settles those it holds; then it ends. */
  async stop(): Promise<void> {
    const listener = this.#listener;
    if (!listener) return;
    this.#listener = undefined;
    const exited = new Promise<void>((resolve) => {
      if (listener.exitCode !== null || listener.signalCode !== null) resolve();
      else listener.once("exit", () => resolve());
    });
    if (listener.connected) {
      const settled = new Promise<void>((resolve) => listener.on("message", (message: ListenerMessage) => message.kind === "stopped" && resolve()));
      listener.send({ kind: "stop" });
      await Promise.race([settled, exited]);
    }
    await Promise.all(this.#running);
    if (listener.connected) listener.disconnect();
    await exited;
  }

  #heard(listener: ChildProcess, message: ListenerMessage): void {
    if (message.kind === "log") {
      this.core.log(message.level, "system", message.message);
    } else if (message.kind === "message") {
      const work = this.#run(message).then((failed) => {
        if (listener.connected) listener.send({ kind: "settled", call: message.call, failed });
      });
      this.#running.add(work);
      void work.finally(() => this.#running.delete(work));
    }
  }

  /** Runs the message's function; true when it failed. */
  async #run({ fn: name, text, triggerMetadata }: QueueMessage): Promise<boolean> {
    const fn = this.#functions.get(name) as QueueFunction;
    try {
      await invokeTriggered(this.core, this.#library as FunctionsLibrary, fn, parsed(text), triggerMetadata);
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
