import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { postJson } from "../support/emulator.js";
import { useOwnApp } from "../support/host.js";

/**
 * The most common Logic Apps use, summarising a document, with the limits people deploy (the defaults):
 * a 200 KiB document in one message reaches the model whole, through /api/chat, Ask and a job; a body
 * past CHAT_MAX_BODY_BYTES is refused with a 413 before the model sees anything.
 */
const suffix = randomUUID().slice(0, 8);
const app = useOwnApp({
  JOB_QUEUE: `documents-${suffix}`,
  JOB_TABLE: `documents${suffix}`,
  JOB_CONTAINER: `documents-${suffix}`,
  JOB_RETRY_AFTER_SECONDS: "1",
});

/** About 200 KiB of prose, with multi-byte characters on the way. */
const DOCUMENT = Array.from({ length: 2_300 }, (_, i) => `Paragraph ${i}: the quarterly report — revenue, costs and outlook — in plain words. `).join("\n");
const summarise = {
  messages: [
    { role: "system", content: "Summarise the document in three sentences." },
    { role: "user", content: DOCUMENT },
  ],
};
const dev = { "api-key": "dev-key" };
const sentContent = () =>
  app.emulator.emulator.log
    .entries()
    .filter((entry) => entry.path.endsWith("/chat/completions"))
    .map((entry) => (entry.body as { messages: { content: string }[] }).messages[1]?.content);

describe("a long document", () => {
  it("is about 200 KiB", () => {
    expect(Buffer.byteLength(JSON.stringify(summarise))).toBeGreaterThan(200 * 1024);
  });

  it("is summarised through /api/chat, and the model gets it whole", async () => {
    const answer = await postJson(`${app.host.url}/api/chat`, summarise, dev);
    expect(answer.status).toBe(200);
    expect(answer.json.message.content.length).toBeGreaterThan(0);
    expect(sentContent()).toEqual([DOCUMENT]);
  });

  it("is summarised through Ask, the connector's simple operation", async () => {
    const answer = await postJson(`${app.host.url}/api/ask`, { system: "Summarise the document in three sentences.", prompt: DOCUMENT }, dev);
    expect(answer.status).toBe(200);
    expect(answer.json.answer.length).toBeGreaterThan(0);
    expect(answer.json.messages[1]).toEqual({ role: "user", content: DOCUMENT });
    expect(sentContent()).toEqual([DOCUMENT]);
  });

  it("is summarised as a job", { timeout: 30_000 }, async () => {
    const accepted = await postJson(`${app.host.url}/api/chat/jobs`, summarise, dev);
    expect(accepted.status).toBe(202);
    const location = accepted.response.headers.get("location") as string;
    let status = 202;
    for (let i = 0; i < 100 && status === 202; i++) {
      await sleep(200);
      status = (await fetch(location, { headers: dev })).status;
    }
    expect(status).toBe(200);
    expect(sentContent()).toEqual([DOCUMENT]);
  });

  it("past CHAT_MAX_BODY_BYTES (1 MiB by default), is a 413 and nothing reaches the model", async () => {
    const huge = { messages: [{ role: "user", content: "x".repeat(1024 * 1024) }] };
    const refused = await postJson(`${app.host.url}/api/chat`, huge, dev);
    expect(refused.status).toBe(413);
    expect(refused.json.code).toBe("payload_too_large");
    expect(sentContent()).toEqual([]);
  });
});
