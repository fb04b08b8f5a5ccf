import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { verifyDevToken } from "../../dev/identity/dev-token.js";
import { ManagedIdentityEndpoint } from "../../dev/identity/managed-identity-endpoint.js";
import { createVaultCertificate } from "../../dev/keyvault/vault-certificate.js";
import { type Envelope, IngestionEndpoint } from "../../dev/telemetry/ingestion-endpoint.js";
import { postJson, startEmulator } from "../support/emulator.js";
import { settingsFor, startHost } from "../support/host.js";
import { TEST_MODEL_API, upstreamModel } from "../support/model-api.js";

/** The span of a call to mistral-large: `chat {the model sent}`. */
const LARGE_SPAN = `chat ${upstreamModel("mistral-large")}`;

/**
 * Telemetry as Application Insights receives it: the real applicationinsights SDK in the host,
 * pointed at a local ingestion endpoint, and the envelopes that arrive checked for spans, parent
 * links, metrics and their dimensions, and for what must never be there.
 */
const CANARY = `canary-${randomBytes(10).toString("hex")}`;
const PROMPT = `Prompt-${randomBytes(6).toString("hex")} how many languages are there`;
const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const JOB_QUEUE = `telemetry-${randomBytes(4).toString("hex")}`;

type Host = Awaited<ReturnType<typeof startHost>>;

interface Run {
  ingestion: IngestionEndpoint;
  envelopes: readonly Envelope[];
  raw: string;
  answers: Record<string, { requestId: string | null; status: number; json: any; text: string }>;
}

let dir: string;
let certificate: Awaited<ReturnType<typeof createVaultCertificate>>;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "telemetry-"));
  certificate = await createVaultCertificate(["127.0.0.1", "localhost"], dir);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function runScenario(overrides: Record<string, string>): Promise<Run> {
  const ingestion = new IngestionEndpoint(certificate);
  const url = await ingestion.listen();
  const emulator = await startEmulator({ key: CANARY });
  const settings = settingsFor(inject("stackSettings"), emulator.url, {
    MODEL_MISTRAL_LARGE_KEY: CANARY,
    MODEL_MISTRAL_SMALL_KEY: CANARY,
    MODEL_MAX_RETRIES: "1",
    MODEL_RETRY_BASE_DELAY_MS: "10",
    APPLICATIONINSIGHTS_CONNECTION_STRING: ingestion.connectionString(url),
    // The SDK's own usage statistics would go to Microsoft's endpoint: not from a test.
    APPLICATION_INSIGHTS_NO_STATSBEAT: "true",
    NODE_EXTRA_CA_CERTS: certificate.caFile,
    JOB_QUEUE: JOB_QUEUE,
    JOB_TABLE: `telemetryjobs${randomBytes(4).toString("hex")}`,
    JOB_RETRY_AFTER_SECONDS: "1",
    ...overrides,
  });
  const host: Host = await startHost(settings);
  const answers: Run["answers"] = {};
  const call = async (name: string, path: string, body: unknown, headers: Record<string, string> = {}) => {
    const answer = await postJson(`${host.url}/api${path}`, body, { "api-key": "dev-key", ...headers });
    answers[name] = { requestId: answer.response.headers.get("x-request-id"), status: answer.status, json: answer.json, text: answer.text };
  };
  const fault = (faults: unknown[]) => postJson(`${emulator.url}/_emulator/faults`, { faults });
  try {
    await call(
      "json",
      "/chat/completions",
      { messages: [{ role: "user", content: PROMPT }], max_tokens: 20 },
      { traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` },
    );
    await call("stream", "/chat/completions", { messages: [{ role: "user", content: PROMPT }], stream: true, stream_options: { include_usage: true } });
    await call(
      "tools",
      "/chat",
      { messages: [{ role: "user", content: "What's the next flight from Miami to Seattle?" }], server_tools: ["get_flight_info"] },
      { "x-ms-workflow-run-id": "08584522853349171093447457271CU00", "x-ms-workflow-name": "order-summary", "x-ms-client-tracking-id": "order-4711" },
    );
    await call("streamTools", "/chat/stream", {
      messages: [{ role: "user", content: "What's the next flight from Miami to Seattle?" }],
      server_tools: ["get_flight_info"],
    });
    await fault([{ status: 500 }]);
    await call("retried", "/chat/completions", { messages: [{ role: "user", content: PROMPT }], max_tokens: 5 });
    await fault([{ status: 429, headers: { "retry-after": "86400" } }]);
    await call("throttled", "/chat/completions", { messages: [{ role: "user", content: PROMPT }], max_tokens: 5 });
    await fault([{ status: 500, times: 2 }]);
    await call("failed", "/chat/completions", { messages: [{ role: "user", content: PROMPT }], max_tokens: 5 });
    await call("job", "/chat/jobs", { messages: [{ role: "user", content: PROMPT }], max_tokens: 5 });
    const location = `${host.url}/api/chat/jobs/${answers.job?.json.id}`;
    for (let i = 0; i < 100 && (await fetch(location, { headers: { "api-key": "dev-key" } })).status === 202; i++) await new Promise((r) => setTimeout(r, 100));
  } finally {
    // Stopping the host runs the app's terminate hook, which flushes what is buffered.
    await host.stop();
    await emulator.close();
  }
  return { ingestion, envelopes: ingestion.envelopes(), raw: ingestion.rawText(), answers };
}

const ofType = (run: Run, baseType: string) => run.envelopes.filter((e) => e.data?.baseType === baseType);
const props = (e: Envelope) => e.data?.baseData?.properties ?? {};
const requestFor = (run: Run, requestId: string | null) => ofType(run, "RequestData").find((e) => e.tags?.["ai.operation.id"] === requestId);
const dependenciesOf = (run: Run, requestId: string | null) => ofType(run, "RemoteDependencyData").filter((e) => e.tags?.["ai.operation.id"] === requestId);
const metric = (run: Run, name: string) =>
  ofType(run, "MetricData").flatMap((e) =>
    ((e.data?.baseData?.metrics ?? []) as { name: string; value: number; count?: number }[])
      .filter((m) => m.name === name)
      .map((m) => ({ ...m, properties: props(e) })),
  );

describe("telemetry, content capture off (the default)", () => {
  let run: Run;
  beforeAll(async () => {
    run = await runScenario({});
  });
  afterAll(() => run?.ingestion.close());

  it("records each request with the x-request-id as its operation id, continuing the caller's trace", () => {
    expect(run.answers.json?.requestId).toBe(TRACE_ID);
    for (const answer of Object.values(run.answers)) {
      const request = requestFor(run, answer.requestId);
      expect(request, `request ${answer.requestId}`).toBeDefined();
      expect(String(request?.data?.baseData?.responseCode)).toBe(String(answer.status));
      expect(request?.data?.baseData?.name).toMatch(/^POST \/api\/(chat|chat\/stream|chat\/completions|chat\/jobs)$/);
      expect(props(request as Envelope)["app.caller.id"]).toBe("key:dev");
    }
  });

  it("records a job's run in its submitting request's operation, with its model call under it", () => {
    const submitted = run.answers.job;
    const runs = ofType(run, "RequestData").filter((e) => e.data?.baseData?.name === `process ${JOB_QUEUE}`);
    expect(runs).toHaveLength(1);
    const jobRun = runs[0] as Envelope;
    expect(jobRun.tags?.["ai.operation.id"]).toBe(submitted?.requestId);
    expect(props(jobRun)).toMatchObject({
      "app.job.id": submitted?.json.id,
      "app.job.attempt": "1",
      "app.job.request_id": submitted?.requestId,
      "app.caller.id": "key:dev",
    });
    expect(props(jobRun)["app.job.status_code"]).toBe("200");
    // A job's polls are one operation name, not one per job.
    const polls = ofType(run, "RequestData").filter((e) => String(e.data?.baseData?.name).startsWith("GET /api/chat/jobs"));
    expect(new Set(polls.map((e) => e.data?.baseData?.name))).toEqual(new Set(["GET /api/chat/jobs/{id}"]));
    const attempts = dependenciesOf(run, submitted?.requestId ?? null).filter((d) => d.tags?.["ai.operation.parentId"] === jobRun.data?.baseData?.id);
    expect(attempts.map((d) => d.data?.baseData?.name)).toEqual([LARGE_SPAN]);
  });

  it("records a Logic Apps workflow's run, name and client tracking id on the request it sent", () => {
    const request = requestFor(run, run.answers.tools?.requestId ?? null) as Envelope;
    expect(props(request)).toMatchObject({
      "app.workflow.run_id": "08584522853349171093447457271CU00",
      "app.workflow.name": "order-summary",
      "app.workflow.client_tracking_id": "order-4711",
    });
    expect(props(requestFor(run, run.answers.json?.requestId ?? null) as Envelope)).not.toHaveProperty("app.workflow.run_id");
  });

  it("records a chat span per upstream attempt, under its request, with the GenAI attributes and the model's usage", () => {
    const json = run.answers.json;
    const [attempt] = dependenciesOf(run, json?.requestId ?? null);
    const request = requestFor(run, json?.requestId ?? null);
    expect(attempt?.data?.baseData?.name).toBe(LARGE_SPAN);
    expect(attempt?.tags?.["ai.operation.parentId"]).toBe(request?.data?.baseData?.id);
    expect(props(attempt as Envelope)).toMatchObject({
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": TEST_MODEL_API === "openai-v1" ? "azure.ai.openai" : "azure.ai.inference",
      "app.model.api": TEST_MODEL_API,
      "gen_ai.request.model": upstreamModel("mistral-large"),
      "gen_ai.request.max_tokens": "20",
      "gen_ai.response.id": json?.json.id,
      "gen_ai.usage.input_tokens": String(json?.json.usage.prompt_tokens),
      "gen_ai.usage.output_tokens": String(json?.json.usage.completion_tokens),
      "app.caller.id": "key:dev",
      "app.deployment.alias": "mistral-large",
    });
    const stream = dependenciesOf(run, run.answers.stream?.requestId ?? null)[0];
    expect(Number(props(stream as Envelope)["gen_ai.response.time_to_first_chunk"])).toBeGreaterThan(0);
    const usage = JSON.parse(
      run.answers.stream?.text
        .split("\n\n")
        .filter((f) => f.includes('"usage"'))
        .pop()
        ?.slice(6) ?? "{}",
    ).usage;
    expect(props(stream as Envelope)["gen_ai.usage.output_tokens"]).toBe(String(usage.completion_tokens));
  });

  it("records server tool calls, retries and failures", () => {
    const tools = dependenciesOf(run, run.answers.tools?.requestId ?? null);
    expect(tools.map((d) => d.data?.baseData?.name)).toEqual(expect.arrayContaining([LARGE_SPAN, "execute_tool get_flight_info"]));
    expect(tools.filter((d) => d.data?.baseData?.name === LARGE_SPAN)).toHaveLength(2);
    // In a stream, the later turns and the tools run after the handler returned: still the request's.
    const streamed = dependenciesOf(run, run.answers.streamTools?.requestId ?? null).map((d) => d.data?.baseData?.name);
    expect(streamed.sort()).toEqual([LARGE_SPAN, LARGE_SPAN, "execute_tool get_flight_info"]);
    const retried = dependenciesOf(run, run.answers.retried?.requestId ?? null);
    expect(retried.map((d) => [d.data?.baseData?.success, d.data?.baseData?.resultCode])).toEqual([
      [false, "500"],
      [true, "200"],
    ]);
    const retryEvents = ofType(run, "MessageData").filter((e) => e.tags?.["ai.operation.id"] === run.answers.retried?.requestId);
    expect(retryEvents.map((e) => e.data?.baseData?.message)).toContain("retry");
    expect(requestFor(run, run.answers.failed?.requestId ?? null)?.data?.baseData?.success).toBe(false);
  });

  it("exports token usage, durations and problem counts with their dimensions", () => {
    const tokens = metric(run, "gen_ai.client.token.usage");
    expect(tokens.map((m) => m.properties["gen_ai.token.type"]).sort()).toEqual(expect.arrayContaining(["input", "output"]));
    const input = tokens.filter((m) => m.properties["gen_ai.token.type"] === "input" && m.properties["app.caller.id"] === "key:dev");
    const reported = ["json", "stream", "retried"].reduce((sum, name) => sum + (run.answers[name]?.json?.usage?.prompt_tokens ?? 0), 0);
    expect(input.reduce((sum, m) => sum + m.value, 0)).toBeGreaterThanOrEqual(reported);
    expect(metric(run, "gen_ai.client.operation.duration").length).toBeGreaterThan(0);
    expect(metric(run, "gen_ai.client.operation.time_to_first_chunk").length).toBeGreaterThan(0);
    const problems = metric(run, "app.request.problems").map((m) => [m.properties["app.problem.category"], m.properties["app.problem.reason"]]);
    expect(run.answers.throttled?.status).toBe(429);
    expect(problems).toEqual(
      expect.arrayContaining([
        ["throttled", run.answers.throttled?.json.error.code],
        ["failed", "upstream_unavailable"],
      ]),
    );
  });

  it("carries no prompt, no answer and no key", () => {
    expect(run.raw).not.toContain(PROMPT);
    expect(run.raw).not.toContain(run.answers.json?.json.choices[0].message.content);
    expect(run.raw).not.toContain(CANARY);
  });
});

describe("telemetry with content capture on", () => {
  let run: Run;
  beforeAll(async () => {
    run = await runScenario({ TELEMETRY_CAPTURE_CONTENT: "true" });
  });
  afterAll(() => run?.ingestion.close());

  it("records prompts, answers and tool data, and still no key", () => {
    const [attempt] = dependenciesOf(run, run.answers.json?.requestId ?? null);
    expect(props(attempt as Envelope)["gen_ai.input.messages"]).toContain(PROMPT);
    const answer = JSON.stringify(run.answers.json?.json.choices[0].message.content).slice(1, -1);
    expect(props(attempt as Envelope)["gen_ai.output.messages"]).toContain(answer);
    const tool = dependenciesOf(run, run.answers.tools?.requestId ?? null).find((d) => d.data?.baseData?.name === "execute_tool get_flight_info");
    expect(props(tool as Envelope)["gen_ai.tool.call.arguments"]).toContain("Miami");
    expect(props(tool as Envelope)["gen_ai.tool.call.result"]).toContain("Seattle");
    expect(run.raw).not.toContain(CANARY);
  });
});

describe("telemetry sent with Entra ID (local authentication off)", () => {
  it("authenticates to ingestion with the app's identity token for Azure Monitor", async () => {
    const clientId = "7c1e2a3b-0000-4000-8000-0000000000c1";
    const signingKey = randomBytes(32).toString("hex");
    const identity = new ManagedIdentityEndpoint({ signingKey, identities: [{ clientId }] });
    await identity.listen();
    const ingestion = new IngestionEndpoint(certificate, (authorization) => {
      const token = /^Bearer (.+)$/.exec(authorization ?? "")?.[1];
      return token !== undefined && verifyDevToken(token, signingKey, { audience: "https://monitor.azure.com" }).ok;
    });
    const url = await ingestion.listen();
    const host = await startHost({
      ...inject("stackSettings"),
      APPLICATIONINSIGHTS_CONNECTION_STRING: ingestion.connectionString(url),
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: `Authorization=AAD;ClientId=${clientId}`,
      APPLICATION_INSIGHTS_NO_STATSBEAT: "true",
      NODE_EXTRA_CA_CERTS: certificate.caFile,
      ...identity.env(),
    });
    let requestId: string | null = null;
    try {
      requestId = (await fetch(`${host.url}/api/health`)).headers.get("x-request-id");
    } finally {
      await host.stop();
    }
    try {
      expect(ingestion.refused()).toBe(0);
      expect(requestFor({ envelopes: ingestion.envelopes() } as Run, requestId)).toBeDefined();
      expect(identity.requests().map((r) => [r.resource, r.clientId])).toContainEqual(["https://monitor.azure.com", clientId]);
    } finally {
      await ingestion.close();
      await identity.close();
    }
  });
});
