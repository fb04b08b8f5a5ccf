import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { postJson } from "../support/emulator.js";
import { useOwnApp } from "../support/host.js";
import { runHttpAction } from "../support/logic-apps-client.js";

/**
 * The issue's own case, in real time: a model that takes longer than the 120 s a Logic Apps HTTP action
 * waits. Through /api/chat/jobs, the action (a client that behaves as the documented one) ends with the
 * answer, and the model saw exactly one generation, where a synchronous call would have been retried.
 */
const suffix = randomUUID().slice(0, 8);
const app = useOwnApp({
  JOB_QUEUE: `logicapps-${suffix}`,
  JOB_TABLE: `logicapps${suffix}`,
  JOB_CONTAINER: `logicapps-${suffix}`,
  JOB_RETRY_AFTER_SECONDS: "5",
});

describe("a Logic Apps HTTP action against a model slower than its 120 s timeout", () => {
  it("ends with the answer through /api/chat/jobs, and the model generates once", { timeout: 240_000 }, async () => {
    // 56 tokens, 2.3 s apart: about 130 s for the whole answer, each silence well inside the idle timeout.
    await postJson(`${app.emulator.url}/_emulator/settings`, { token_delay_ms: 2_300 });
    const started = Date.now();
    const outcome = await runHttpAction({
      method: "POST",
      url: `${app.host.url}/api/chat/jobs`,
      headers: { "api-key": "dev-key", "Idempotency-Key": `run-${suffix}-Ask_Mistral` },
      body: { messages: [{ role: "user", content: "How many languages are in the world?" }] },
    });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThan(120_000);
    expect(outcome.status).toBe(200);
    expect(outcome.body.message.content).toMatch(/7,000 languages/);
    expect(outcome.body.finish_reason).toBe("stop");
    // One POST, then polls every Retry-After; no request timed out or was retried.
    expect(outcome.sent[0]).toEqual({ method: "POST", url: `${app.host.url}/api/chat/jobs`, outcome: 202 });
    expect(outcome.sent.slice(1).every((request) => request.method === "GET")).toBe(true);
    expect(outcome.sent.filter((request) => request.outcome !== 202 && request.outcome !== 200)).toEqual([]);
    expect(outcome.sent.length).toBeGreaterThan(20);
    const generations = app.emulator.emulator.log.entries().filter((entry) => entry.path.endsWith("/chat/completions"));
    expect(generations).toHaveLength(1);
    expect(generations[0]?.outcome.done).toBe(true);
  });
});
