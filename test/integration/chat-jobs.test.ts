import { createHash, randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, inject, it } from "vitest";
import { Secret } from "../../src/config/secret.js";
import { TableJobStore } from "../../src/jobs/job-store.js";
import { postJson, seed } from "../support/emulator.js";
import { useOwnApp } from "../support/host.js";
import { admittedRequests } from "../support/quota-rows.js";

/**
 * Chat jobs over real HTTP, on Azurite's queue and tables, run by the local host's queue trigger with
 * the same engine as /api/chat: the 202 and polling contract, failures, cancel, another caller's ids,
 * Idempotency-Key and the quota charged once.
 */
const OTHER_KEY = "jobs-other-caller";
const suffix = randomUUID().slice(0, 8);
const quotaTable = `jobquotas${suffix}`;
const app = useOwnApp({
  QUOTA_TABLE: quotaTable,
  MODEL_MAX_RETRIES: "0",
  CALLER_KEYS: `${inject("stackSettings").CALLER_KEYS},other:${createHash("sha256").update(OTHER_KEY).digest("hex")}`,
  CALLER_QUOTAS: "dev:1000/10000000,other:1/100000",
  // The quota rows count admissions exactly only without leases held ahead (quotas.test.ts has those).
  QUOTA_LEASE_PERCENT: "0",
  JOB_QUEUE: `jobs-${suffix}`,
  JOB_TABLE: `jobs${suffix}`,
  JOB_CONTAINER: `jobs-${suffix}`,
  IDEMPOTENCY_TABLE: `jobidem${suffix}`,
  JOB_RETRY_AFTER_SECONDS: "1",
});

const dev = { "api-key": "dev-key" };
const hello = { messages: [{ role: "user", content: "How many languages are in the world?" }] };
const url = (path: string) => `${app.host.url}/api${path}`;
const modelCalls = () => app.emulator.emulator.log.entries().filter((entry) => entry.path.endsWith("/chat/completions"));
const fault = (...faults: unknown[]) => postJson(`${app.emulator.url}/_emulator/faults`, { faults });
const slow = (tokenDelayMs: number) => postJson(`${app.emulator.url}/_emulator/settings`, { token_delay_ms: tokenDelayMs });
const submit = (body: unknown, headers: Record<string, string> = {}) => postJson(url("/chat/jobs"), body, { ...dev, ...headers });

async function get(location: string, headers: Record<string, string> = dev) {
  const response = await fetch(location, { headers });
  const text = await response.text();
  return { status: response.status, response, text, json: text ? JSON.parse(text) : undefined };
}

/** Polls as Logic Apps does: after each Retry-After, until the answer is not a 202. */
async function untilDone(location: string, limitMs = 30_000) {
  const end = Date.now() + limitMs;
  for (;;) {
    const answer = await get(location);
    if (answer.status !== 202) return answer;
    if (Date.now() > end) throw new Error(`job still ${answer.json.status} after ${limitMs} ms`);
    await sleep(Math.min(200, Number(answer.response.headers.get("retry-after")) * 1000));
  }
}

async function untilStatus(location: string, status: string) {
  for (let i = 0; i < 150; i++) {
    const answer = await get(location);
    if (answer.json?.status === status) return;
    await sleep(100);
  }
  throw new Error(`job never ${status}`);
}

describe("chat jobs", () => {
  it("POST answers 202 with an absolute Location and Retry-After; polling ends with what /api/chat answers", async () => {
    const accepted = await submit(hello);
    expect(accepted.status).toBe(202);
    expect(accepted.json).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), status: "queued", created: expect.any(Number) });
    expect(Math.abs(accepted.json.created - Date.now() / 1000)).toBeLessThan(60);
    const location = accepted.response.headers.get("location") as string;
    expect(location).toBe(`${app.host.url}/api/chat/jobs/${accepted.json.id}`);
    expect(accepted.response.headers.get("retry-after")).toBe("1");
    expect(accepted.response.headers.get("x-ratelimit-remaining-requests")).not.toBeNull();

    const pending = await get(location);
    if (pending.status === 202) {
      expect(pending.json).toEqual({ id: accepted.json.id, status: expect.stringMatching(/^(queued|running)$/) });
      expect(pending.response.headers.get("location")).toBe(location);
      expect(pending.response.headers.get("retry-after")).toBe("1");
    }
    const done = await untilDone(location);
    expect(done.status).toBe(200);
    expect(done.response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(done.response.headers.get("x-model-deployment")).toBe("mistral-large");

    const direct = await postJson(url("/chat"), hello, dev);
    // The same contract, field for field; only the ids and times of two generations differ.
    const shape = (answer: Record<string, unknown>) => ({ ...answer, id: "", created: 0 });
    expect(shape(done.json)).toEqual(shape(direct.json));
    expect(modelCalls()).toHaveLength(2);
    // The job asked the model for a stream (bounded by silences, not one attempt's timeout).
    expect((modelCalls()[0]?.body as { stream?: boolean }).stream).toBe(true);
  });

  it("runs server tools with the same engine: the steps of the loop are in the job's answer", async () => {
    const body = { messages: seed("tools.request").messages, server_tools: ["get_flight_info"] };
    const accepted = await submit(body);
    const done = await untilDone(accepted.response.headers.get("location") as string);
    expect(done.status).toBe(200);
    expect(done.json.steps.map((step: { tool_call: { name: string } }) => step.tool_call.name)).toContain("get_flight_info");
    expect(done.json.message.content.length).toBeGreaterThan(0);
  });

  it("refuses a bad body, a stream and an unknown model at once, before anything is queued", async () => {
    const empty = await submit({ messages: [] });
    expect(empty.status).toBe(400);
    expect(empty.response.headers.get("content-type")).toBe("application/problem+json");
    const stream = await submit({ ...hello, stream: true });
    expect(stream.status).toBe(400);
    expect(stream.json.param).toBe("stream");
    const model = await submit({ ...hello, model: "nope" });
    expect(model.status).toBe(400);
    expect(model.json.code).toBe("model_not_found");
    await sleep(500);
    expect(modelCalls()).toHaveLength(0);
  });

  it("a caller over quota is a 429 right away, and nothing is queued", async () => {
    const other = { "api-key": OTHER_KEY };
    const first = await submit(hello, other);
    expect(first.status).toBe(202);
    const second = await submit(hello, other);
    expect(second.status).toBe(429);
    expect(second.json.code).toBe("quota_exceeded");
    expect(Number(second.response.headers.get("retry-after"))).toBeGreaterThan(0);
    // One request a minute, and the job's own model call still ran: it used the submission's reservation.
    const location = first.response.headers.get("location") as string;
    for (let i = 0; i < 100 && (await get(location, other)).status === 202; i++) await sleep(100);
    expect((await get(location, other)).status).toBe(200);
    expect(modelCalls()).toHaveLength(1);
  });

  it("another caller's job, an expired one, an unknown id and a malformed one are the same 404; no result without credentials", async () => {
    const accepted = await submit(hello);
    const location = accepted.response.headers.get("location") as string;
    await untilDone(location);
    const theirs = await get(location, { "api-key": OTHER_KEY });
    const unknown = await get(`${app.host.url}/api/chat/jobs/${randomUUID()}`);
    const malformed = await get(`${app.host.url}/api/chat/jobs/not-a-job`);
    // A job of this caller's, finished, but submitted longer ago than JOB_RETENTION_HOURS.
    const old = await new TableJobStore({
      storage: { kind: "connectionString", connectionString: new Secret(inject("storageConnectionString")) },
      jobs: { table: `jobs${suffix}`, container: `jobs-${suffix}`, retentionMs: 24 * 3_600_000, maxAttempts: 3, leaseMs: 30_000 },
      now: () => Date.now() - 25 * 3_600_000,
    }).create({ callerId: "key:dev", request: JSON.stringify(hello), allowFallback: false, requestId: "0".repeat(32) });
    const expired = await get(`${app.host.url}/api/chat/jobs/${old.id}`);
    for (const answer of [theirs, unknown, malformed, expired]) {
      expect(answer.status).toBe(404);
      expect(answer.json.code).toBe("job_not_found");
      expect({ ...answer.json, request_id: "" }).toEqual({ ...theirs.json, request_id: "" });
    }
    expect((await fetch(location, { method: "DELETE", headers: { "api-key": OTHER_KEY } })).status).toBe(404);
    const anonymous = await get(location, {});
    expect(anonymous.status).toBe(401);
    expect(anonymous.text).not.toContain("message");
    expect((await get(location)).status).toBe(200);
  });

  it("a job the model fails ends with the problem /api/chat would answer, with its own status", async () => {
    await fault({ status: 400, body: { error: { code: "Bad Request", message: "Injected refusal." } } });
    const refused = await untilDone((await submit(hello)).response.headers.get("location") as string);
    expect(refused.status).toBe(400);
    expect(refused.response.headers.get("content-type")).toBe("application/problem+json");
    await fault({ status: 500 });
    const failed = await untilDone((await submit(hello)).response.headers.get("location") as string);
    expect(failed.status).toBe(502);
    expect(failed.json.code).toBe("upstream_error");
    expect(failed.json.request_id).toEqual(expect.any(String));
  });

  it("DELETE cancels a running job: its model call is aborted, and its GET is then a 409 job_cancelled", async () => {
    await slow(300);
    const accepted = await submit(hello);
    const location = accepted.response.headers.get("location") as string;
    await untilStatus(location, "running");
    await sleep(300);
    const cancel = await fetch(location, { method: "DELETE", headers: dev });
    expect(cancel.status).toBe(204);
    const after = await get(location);
    expect(after.status).toBe(409);
    expect(after.json.code).toBe("job_cancelled");
    // The worker hears of it at its next beat (at most 2 s) and aborts the model's stream.
    for (let i = 0; i < 50 && !modelCalls()[0]?.outcome.closed_early; i++) await sleep(100);
    expect(modelCalls()[0]?.outcome.closed_early).toBe(true);
    expect(modelCalls()[0]?.outcome.done).toBeUndefined();
    expect((await fetch(location, { method: "DELETE", headers: dev })).status).toBe(204);
    await sleep(1_000);
    expect((await get(location)).json.code).toBe("job_cancelled");
  });

  it("a queued job can be cancelled before it runs; a finished one cannot (409 job_finished)", async () => {
    const done = await submit(hello);
    const doneLocation = done.response.headers.get("location") as string;
    await untilDone(doneLocation);
    const late = await fetch(doneLocation, { method: "DELETE", headers: dev });
    expect(late.status).toBe(409);
    expect(((await late.json()) as { code: string }).code).toBe("job_finished");
    expect((await get(doneLocation)).status).toBe(200);
  });

  it("Idempotency-Key: a retried POST gets the same 202 and Location; the job, its tools and its quota charge happen once", async () => {
    const key = `job-${randomUUID()}`;
    const flights = { messages: seed("tools.request").messages, server_tools: ["get_flight_info"] };
    const before = await admittedRequests(quotaTable);
    const first = await submit(flights, { "idempotency-key": key });
    const again = await submit(flights, { "idempotency-key": key });
    expect(again.status).toBe(202);
    expect(again.response.headers.get("idempotent-replayed")).toBe("true");
    expect(again.response.headers.get("location")).toBe(first.response.headers.get("location"));
    expect(again.json).toEqual(first.json);
    const reused = await submit({ messages: [{ role: "user", content: "Another question" }] }, { "idempotency-key": key });
    expect(reused.status).toBe(422);
    expect(reused.json.code).toBe("idempotency_key_reused");
    const done = await untilDone(first.response.headers.get("location") as string);
    expect(done.json.steps).toHaveLength(1);
    await sleep(500);
    // One run: its two turns (the tool call, then the answer), and one admission (the second turn's own).
    expect(modelCalls()).toHaveLength(2);
    expect(await admittedRequests(quotaTable)).toBe(before + 2);
    expect((await submit(flights, { "idempotency-key": key })).response.headers.get("location")).toBe(first.response.headers.get("location"));
    await sleep(500);
    expect(modelCalls()).toHaveLength(2);
  });

  it("charges the caller's quota once: the worker's first call uses the reservation made at submission", async () => {
    const before = await admittedRequests(quotaTable);
    const job = await submit(hello);
    await untilDone(job.response.headers.get("location") as string);
    expect(await admittedRequests(quotaTable)).toBe(before + 1);
    await postJson(url("/chat"), hello, dev);
    expect(await admittedRequests(quotaTable)).toBe(before + 2);
  });

  it("answers 405 for other methods, naming those it takes", async () => {
    const put = await fetch(url("/chat/jobs"), { method: "PUT", headers: dev });
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toBe("POST");
    const post = await fetch(url(`/chat/jobs/${randomUUID()}`), { method: "POST", headers: dev });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, DELETE");
  });
});
