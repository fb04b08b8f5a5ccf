import { setTimeout as sleep } from "node:timers/promises";
import { QueueClient } from "@azure/storage-queue";
import type { ListenerMessage, ListenerStart, QueueMessage } from "./queue-trigger.js";

/**
 * The local host's queue listener, a process of its own (forked by queue-trigger.ts), as the Functions
 * host's listeners run in the host and not in the Node worker: the storage SDK, the polling and the
 * settling of messages cost the app's process nothing, in Azure as here. It polls each queue (backing
 * off while it is empty), takes up to `batchSize` messages at a time (and the next batch once no more
 * than `newBatchThreshold` of them still run), invisible for the lease while they run, and hands each
 * to the host, which runs the function and says whether it failed. A message whose function succeeded
 * is deleted; one that failed becomes visible again after `visibilityTimeout`, and once it has been
 * taken `maxDequeueCount` times it moves, as it was, to `<queue>-poison`. When the host goes, so does
 * this process, settling nothing: a message it held comes back when its lease runs out.
 */
let stopped = false;
let nextCall = 0;
const loops: Promise<void>[] = [];
const running = new Set<Promise<void>>();
const answers = new Map<number, (failed: boolean) => void>();

function send(message: ListenerMessage): void {
  process.send?.(message);
}

process.on("disconnect", () => process.exit(0));
// Ctrl+C reaches the whole process group: the host stops this process itself, once its functions have run.
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => undefined);
process.on("message", (message: ListenerStart | { kind: "settled"; call: number; failed: boolean } | { kind: "stop" }) => {
  if (message.kind === "start") start(message);
  else if (message.kind === "settled") answers.get(message.call)?.(message.failed);
  else void stop();
});

function start({ functions, options }: ListenerStart): void {
  for (const fn of functions) {
    let queues: [QueueClient, QueueClient];
    try {
      queues = [new QueueClient(fn.connectionString, fn.queueName), new QueueClient(fn.connectionString, `${fn.queueName}-poison`)];
    } catch (error) {
      // As the Functions host does, the app still starts; only this function does not run.
      log("warning", `Function ${fn.name} will not run: ${(error as Error).message}`);
      continue;
    }
    const [queue, poison] = queues;
    loops.push(poll({ fn: fn.name, queueName: fn.queueName, queue, poison, options }));
  }
}

async function stop(): Promise<void> {
  stopped = true;
  await Promise.all([...loops, ...running]);
  send({ kind: "stopped" });
}

interface Polled {
  fn: string;
  queueName: string;
  queue: QueueClient;
  poison: QueueClient;
  options: ListenerStart["options"];
}

async function poll(polled: Polled): Promise<void> {
  const { queue, options } = polled;
  let wait = 100;
  let created = false;
  const batch = new Set<Promise<void>>();
  while (!stopped) {
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
          const work = track(settle(polled, message)).catch((error: unknown) => {
            // The message was not settled: it comes back when its lease runs out.
            log("warning", `Message ${message.messageId} of ${polled.queueName} was not settled: ${(error as Error).message}`);
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
      log("warning", `Queue ${polled.queueName} could not be polled: ${(error as Error).message}`);
    }
    await sleep(wait);
    wait = Math.min(wait * 2, options.maxPollingIntervalMs);
  }
}

function track(work: Promise<void>): Promise<void> {
  running.add(work);
  return work.finally(() => running.delete(work));
}

async function settle(
  { fn, queueName, queue, poison, options }: Polled,
  message: { messageId: string; popReceipt: string; messageText: string; dequeueCount: number; insertedOn: Date; expiresOn: Date; nextVisibleOn: Date },
): Promise<void> {
  if (message.dequeueCount > options.maxDequeueCount) {
    // Taken that often without being settled: its runs kill the host. It is not run again.
    await moveToPoison(queueName, queue, poison, message);
    return;
  }
  const call = nextCall++;
  const failed = await new Promise<boolean>((resolve) => {
    answers.set(call, resolve);
    const text = options.messageEncoding === "base64" ? Buffer.from(message.messageText, "base64").toString("utf8") : message.messageText;
    const queued: QueueMessage = {
      kind: "message",
      call,
      fn,
      text,
      triggerMetadata: {
        id: message.messageId,
        popReceipt: message.popReceipt,
        dequeueCount: message.dequeueCount,
        insertionTime: message.insertedOn,
        expirationTime: message.expiresOn,
        nextVisibleTime: message.nextVisibleOn,
      },
    };
    send(queued);
  });
  answers.delete(call);
  if (!failed) {
    await queue.deleteMessage(message.messageId, message.popReceipt);
  } else if (message.dequeueCount >= options.maxDequeueCount) {
    await moveToPoison(queueName, queue, poison, message);
  } else {
    await queue.updateMessage(message.messageId, message.popReceipt, undefined, Math.ceil(options.visibilityTimeoutMs / 1000));
  }
}

async function moveToPoison(
  queueName: string,
  queue: QueueClient,
  poison: QueueClient,
  message: { messageId: string; popReceipt: string; messageText: string; dequeueCount: number },
) {
  await poison.createIfNotExists();
  await poison.sendMessage(message.messageText);
  await queue.deleteMessage(message.messageId, message.popReceipt);
  log("warning", `Message ${message.messageId} moved to ${queueName}-poison after ${message.dequeueCount} tries.`);
}

function log(level: "warning" | "error", message: string): void {
  send({ kind: "log", level, message });
}
