import { join } from "node:path";
import { QueueClient } from "@azure/storage-queue";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { APP_ROOT, startHost } from "../support/host.js";

/**
 * The local host runs queue-triggered functions as the Functions host does: messages base64-encoded
 * (host.json's messageEncoding), JSON handed over parsed, a failed message tried again with its
 * dequeue count rising, and after maxDequeueCount (3 in the fixture's host.json) moved to the poison
 * queue as it was.
 */
const QUEUE = `fixture-work-${process.pid}-${Date.now().toString(36)}`;
let host: Awaited<ReturnType<typeof startHost>>;
const connection = inject("storageConnectionString");
const FIXTURE = join(APP_ROOT, "test", "fixtures", "host-app");
/** A short lease, so that a message taken by a host that died comes back within the test. */
const settings = { AzureWebJobsStorage: connection, FIXTURE_QUEUE: QUEUE, FUNCTIONS_HOST_QUEUE_LEASE_MS: "2000" };
const queue = new QueueClient(connection, QUEUE);
const poison = new QueueClient(connection, `${QUEUE}-poison`);

beforeAll(async () => {
  await queue.createIfNotExists();
  host = await startHost(settings, FIXTURE);
});
afterAll(async () => {
  await host?.stop();
  await queue.deleteIfExists();
  await poison.deleteIfExists();
});

interface Call {
  item: unknown;
  dequeueCount: number;
  functionName: string;
}
const calls = async () => (await (await fetch(`${host.url}/api/queue-calls`)).json()) as Call[];
const callsFor = async (id: string) => (await calls()).filter((call) => (call.item as { id?: string } | null)?.id === id);
const send = (item: unknown) => queue.sendMessage(Buffer.from(typeof item === "string" ? item : JSON.stringify(item)).toString("base64"));

describe("local host: queue triggers", () => {
  it("hands a JSON message to the function parsed, once, and deletes it", async () => {
    await send({ id: "once", text: "hello" });
    await expect.poll(() => callsFor("once"), { timeout: 10_000 }).toHaveLength(1);
    expect((await callsFor("once"))[0]).toEqual({ item: { id: "once", text: "hello" }, dequeueCount: 1, functionName: "queueWork" });
    await expect.poll(async () => (await queue.getProperties()).approximateMessagesCount, { timeout: 10_000 }).toBe(0);
  });

  it("hands a message that is not JSON over as its text", async () => {
    await send("plain words");
    await expect.poll(async () => (await calls()).some((call) => call.item === "plain words"), { timeout: 10_000 }).toBe(true);
  });

  it("tries a failing message again, its dequeue count rising, until it succeeds", async () => {
    await send({ id: "twice", failTimes: 2 });
    await expect.poll(async () => (await callsFor("twice")).map((call) => call.dequeueCount), { timeout: 15_000 }).toEqual([1, 2, 3]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await callsFor("twice")).toHaveLength(3);
  });

  it("moves a message that keeps failing to the poison queue after maxDequeueCount tries, as it was sent", async () => {
    const item = { id: "poisoned", failTimes: 99 };
    await send(item);
    await expect.poll(async () => (await callsFor("poisoned")).length, { timeout: 15_000 }).toBe(3);
    await expect
      .poll(async () => (await poison.peekMessages()).peekedMessageItems.map((m) => m.messageText), { timeout: 10_000 })
      .toEqual([Buffer.from(JSON.stringify(item)).toString("base64")]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await callsFor("poisoned")).toHaveLength(3);
  });

  it("gives a message taken by a host that died to the next host once its lease runs out, with the dequeue count it has", async () => {
    await send({ id: "crashed", hangTimes: 1 });
    await expect.poll(() => callsFor("crashed"), { timeout: 10_000 }).toHaveLength(1);
    host.service.child.kill("SIGKILL");
    await host.stop();
    host = await startHost(settings, FIXTURE);
    await expect.poll(async () => (await callsFor("crashed")).map((call) => call.dequeueCount), { timeout: 15_000 }).toEqual([2]);
  });

  it("makes its queue again when it is deleted while the host runs (it makes it once, not on every poll)", async () => {
    await queue.delete();
    await expect.poll(() => host.service.output(), { timeout: 15_000 }).toMatch(new RegExp(`Queue ${QUEUE} could not be polled`));
    await expect.poll(async () => (await queue.exists()) as boolean, { timeout: 15_000 }).toBe(true);
    await send({ id: "after-delete" });
    await expect.poll(() => callsFor("after-delete"), { timeout: 10_000 }).toHaveLength(1);
  });
});

describe("local host: a queue trigger it cannot listen for", () => {
  it("leaves that function out, says why, and serves the rest", async () => {
    const broken = await startHost({ AzureWebJobsStorage: "not a connection string", FIXTURE_QUEUE: QUEUE }, FIXTURE);
    try {
      expect((await fetch(`${broken.url}/api/queue-calls`)).status).toBe(200);
      await expect.poll(() => broken.service.output(), { timeout: 10_000 }).toMatch(/Function queueWork will not run: /);
      expect(broken.service.output()).not.toMatch(/storage SDK did not load/);
    } finally {
      await broken.stop();
    }
  });
});
