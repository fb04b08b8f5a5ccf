import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ManagedIdentityEndpoint } from "../../dev/identity/managed-identity-endpoint.js";
import { LocalKeyVault, type StartedVault } from "../../dev/keyvault/local-key-vault.js";
import { startEmulator } from "../support/emulator.js";
import { settingsFor, startHost } from "../support/host.js";
import { runHttpAction } from "../support/logic-apps-client.js";
import { evaluateInputs, type WorkflowRun } from "../support/workflow-expressions.js";

/**
 * The Logic Apps sample end to end, as `azd up` leaves it: provisioning has written the sample's key to Key
 * Vault; the postprovision hook (run as azd runs it, as the deployer's identity) puts its hash in CALLER_KEYS,
 * keeping the operator's entries, and asks App Service to read the references again; then the workflow's
 * actions run against the app with that key, the way the Logic Apps engine runs them (its expressions, its
 * HTTP action with the asynchronous pattern).
 */
const ROOT = resolve(__dirname, "..", "..");
const HOOK = join(ROOT, "hooks", "postprovision.mjs");
const CLIENT = join(ROOT, "test", "fixtures", "identity-client", "client.cjs");
const definition = JSON.parse(readFileSync(join(ROOT, "infra", "logic-apps", "summarise-document.workflow.json"), "utf8"));

const DEPLOYER = "b1b2c3d4-0000-4000-8000-000000000001"; // Key Vault Secrets Officer, as azd's user is
const WORKFLOW = "b1b2c3d4-0000-4000-8000-000000000002"; // Key Vault Secrets User, the workflow's identity
const KEY = randomBytes(32).toString("hex");
const ROTATED = randomBytes(32).toString("hex");
const OPERATOR_ENTRY = `first-caller:${"ab".repeat(32)}`;
const entryOf = (key: string) => `logic-apps-sample:${createHash("sha256").update(key).digest("hex")}`;

const signingKey = randomBytes(32).toString("hex");
let identity: ManagedIdentityEndpoint;
let vault: LocalKeyVault;
let started: StartedVault;
let arm: Server;
let armUrl: string;
const armRequests: { method: string; url: string; authorization: string }[] = [];

beforeAll(async () => {
  identity = new ManagedIdentityEndpoint({ signingKey, identities: [{ clientId: DEPLOYER }, { clientId: WORKFLOW }] });
  await identity.listen();
  vault = new LocalKeyVault({
    signingKey,
    roles: { [DEPLOYER]: "secrets-officer", [WORKFLOW]: "secrets-user" },
    secrets: { "logic-apps-sample-key": KEY, "caller-keys": OPERATOR_ENTRY },
  });
  started = await vault.start();
  // Azure Resource Manager, for the one call the hook makes: the refresh of the app's Key Vault references.
  arm = createServer((req: IncomingMessage, res) => {
    armRequests.push({ method: req.method ?? "", url: req.url ?? "", authorization: req.headers.authorization ?? "" });
    res.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
  await new Promise<void>((done) => arm.listen(0, "127.0.0.1", done));
  armUrl = `http://127.0.0.1:${(arm.address() as AddressInfo).port}`;
});
afterAll(async () => {
  arm?.closeAllConnections();
  await new Promise((done) => arm?.close(done));
  await vault?.close();
  await identity?.close();
});

/** The azd environment after `azd provision` (outputs of main.bicep and azd's own values). */
function azdEnvironment(sample: boolean): Record<string, string> {
  return {
    AZURE_KEY_VAULT_ENDPOINT: started.url,
    AZURE_KEY_VAULT_NAME: "kv-sample",
    CALLER_KEYS_SECRET_NAME: "caller-keys",
    LOGIC_APPS_SAMPLE_WORKFLOW: sample ? "logic-summarise-abc" : "",
    LOGIC_APPS_SAMPLE_KEY_SECRET_NAME: sample ? "logic-apps-sample-key" : "",
    AZURE_SUBSCRIPTION_ID: "00000000-0000-0000-0000-000000000001",
    AZURE_RESOURCE_GROUP: "rg-dev",
    AZURE_FUNCTION_APP_NAME: "func-api-abc",
    AZURE_RESOURCE_MANAGER_ENDPOINT: armUrl,
    API_BASE_URL: "https://func-api-abc.azurewebsites.net/api",
  };
}

async function run(
  file: string,
  args: string[],
  env: Record<string, string>,
  clientId: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [file, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", ...identity.env(), ...started.env, AZURE_CLIENT_ID: clientId, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (data: Buffer) => (stdout += data.toString()));
  child.stderr.on("data", (data: Buffer) => (stderr += data.toString()));
  const code = await new Promise<number | null>((done) => child.once("close", done));
  return { code, stdout, stderr };
}

const runHook = (sample = true) => run(HOOK, [], azdEnvironment(sample), DEPLOYER);

async function secret(name: string, clientId = DEPLOYER): Promise<string> {
  const result = await run(CLIENT, ["secret", started.url, name], {}, clientId);
  const outcome = JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "{}") as { ok: boolean; value?: string; message?: string };
  if (!outcome.ok) throw new Error(`reading ${name}: ${outcome.message}`);
  return outcome.value ?? "";
}

describe("the postprovision hook", () => {
  it("puts the sample's key in CALLER_KEYS next to the operator's entries, has the app read it, and prints no key", async () => {
    armRequests.length = 0;
    const result = await runHook();
    expect(result.code, result.stderr).toBe(0);
    expect(await secret("caller-keys")).toBe(`${OPERATOR_ENTRY},${entryOf(KEY)}`);
    expect(armRequests).toEqual([
      {
        method: "POST",
        url: "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-dev/providers/Microsoft.Web/sites/func-api-abc/config/configreferences/appsettings/refresh?api-version=2022-03-01",
        authorization: expect.stringMatching(/^Bearer \S+$/),
      },
    ]);
    // The token was the deployer's, for Resource Manager.
    expect(
      identity
        .requests()
        .filter((r) => r.resource === armUrl)
        .map((r) => r.clientId),
    ).toEqual([DEPLOYER]);
    expect(result.stdout).toContain(
      'The Logic Apps sample (logic-summarise-abc) has a new caller key, "logic-apps-sample" in caller-keys; the app has read it.',
    );
    expect(result.stdout).toContain("The API is at https://func-api-abc.azurewebsites.net/api");
    expect(`${result.stdout}${result.stderr}`).not.toContain(KEY);
  });

  it("changes nothing when provisioning did not change the key, and replaces only its own entry when it did", async () => {
    armRequests.length = 0;
    const again = await runHook();
    expect(again.code).toBe(0);
    expect(again.stdout).not.toContain("Logic Apps sample");
    expect(armRequests).toEqual([]);

    vault.setSecret("logic-apps-sample-key", ROTATED); // azd provision again: a new key
    const rotated = await runHook();
    expect(rotated.code).toBe(0);
    expect(await secret("caller-keys")).toBe(`${OPERATOR_ENTRY},${entryOf(ROTATED)}`);
    expect(armRequests).toHaveLength(1);
  });

  it("takes the entry out when the sample is turned off, keeping the rest", async () => {
    const off = await runHook(false);
    expect(off.code).toBe(0);
    expect(await secret("caller-keys")).toBe(OPERATOR_ENTRY);
    expect(off.stdout).toContain('The Logic Apps sample is off: its key "logic-apps-sample" was taken out of caller-keys.');
    // Back on for what follows.
    expect((await runHook()).code).toBe(0);
    expect(await secret("caller-keys")).toBe(`${OPERATOR_ENTRY},${entryOf(ROTATED)}`);
  });

  it("does not fail azd up when it cannot write the secret, and says what to do", async () => {
    vault.setSecret("logic-apps-sample-key", KEY); // a new key to put in, by an identity that may only read
    try {
      const result = await run(HOOK, [], azdEnvironment(true), WORKFLOW);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain("The Logic Apps sample's key could not be put in caller-keys");
      expect(result.stdout).toContain("Key Vault Secrets Officer");
      expect(result.stdout).toContain("The API is at");
      expect(await secret("caller-keys")).toBe(`${OPERATOR_ENTRY},${entryOf(ROTATED)}`);
    } finally {
      vault.setSecret("logic-apps-sample-key", ROTATED);
    }
  });
});

describe("the sample workflow, run against the local stack with the key the hook made known", () => {
  const suffix = randomBytes(4).toString("hex");
  let emulator: Awaited<ReturnType<typeof startEmulator>>;
  let host: Awaited<ReturnType<typeof startHost>>;

  beforeAll(async () => {
    emulator = await startEmulator();
    host = await startHost(
      settingsFor(inject("stackSettings"), emulator.url, {
        // What the app reads from the reference once refreshed: the secret as the hook left it.
        CALLER_KEYS: await secret("caller-keys"),
        JOB_QUEUE: `sample-${suffix}`,
        JOB_TABLE: `sample${suffix}`,
        JOB_CONTAINER: `sample-${suffix}`,
        JOB_RETRY_AFTER_SECONDS: "1",
      }),
    );
  });
  afterAll(async () => {
    await host?.stop();
    await emulator?.close();
  });

  /** One run of the definition: Read_caller_key as the workflow's identity, Summarise as the HTTP action, then Respond. */
  async function runWorkflow(trigger: { document: string; instructions?: string }, runName: string) {
    const run: WorkflowRun = {
      parameters: { apiBaseUrl: `${host.url}/api`, callerKeySecretUri: `${started.url}/secrets/logic-apps-sample-key` },
      trigger: { body: trigger },
      actions: {},
      runName,
    };
    const read = evaluateInputs(definition.actions.Read_caller_key.inputs, run);
    expect(read.uri).toBe(`${started.url}/secrets/logic-apps-sample-key?api-version=7.5`);
    run.actions.Read_caller_key = { statusCode: 200, body: { value: await secret("logic-apps-sample-key", WORKFLOW) } };

    const action = evaluateInputs(definition.actions.Summarise.inputs, run);
    const { "Content-Type": _contentType, ...headers } = action.headers as Record<string, string>;
    const outcome = await runHttpAction({ method: action.method, url: action.uri, headers, body: action.body });
    run.actions.Summarise = { statusCode: outcome.status, body: outcome.body };
    const next = outcome.status < 300 ? definition.actions.Respond : definition.actions.Respond_with_problem;
    return { outcome, response: evaluateInputs(next.inputs, run), sent: action };
  }

  it("summarises a document through a chat job, polled to its answer, and responds with the summary", async () => {
    const document = "The quarterly report. ".repeat(2_000);
    const { outcome, response, sent } = await runWorkflow({ document }, `0858${suffix}`);
    expect(sent.headers["api-key"]).toBe(ROTATED);
    expect(sent.headers["Idempotency-Key"]).toBe(`0858${suffix}-summarise`);
    expect(sent.body.messages).toEqual([
      { role: "system", content: "Summarise the document in a few short paragraphs, in its own language." },
      { role: "user", content: document },
    ]);
    // The POST was a 202 with Location, then polls until the job's answer.
    expect(outcome.sent[0]).toMatchObject({ method: "POST", outcome: 202 });
    expect(outcome.sent.at(-1)).toMatchObject({ method: "GET", outcome: 200 });
    expect(outcome.sent.at(-1)?.url).toMatch(new RegExp(`^${host.url}/api/chat/jobs/`));
    expect(response.statusCode, JSON.stringify(response.body)).toBe(200);
    expect(typeof response.body.summary).toBe("string");
    expect(response.body.summary.length).toBeGreaterThan(0);
    expect(response.body.summary).toBe(outcome.body.message.content);
    expect(response.body.summary).toContain("The quarterly report.");
    expect(response.body.usage.prompt_tokens).toBeGreaterThan(0);
  });

  it("a retried run's action gets the same job, not a second one", async () => {
    const first = await runWorkflow({ document: "Short text.", instructions: "One sentence." }, `retry${suffix}`);
    const second = await runWorkflow({ document: "Short text.", instructions: "One sentence." }, `retry${suffix}`);
    const jobOf = (o: typeof first) => o.outcome.sent.find((s) => s.method === "GET")?.url;
    expect(jobOf(second)).toBe(jobOf(first));
    expect(first.sent.body.messages[0].content).toBe("One sentence.");
  });

  it("responds with the app's problem when the key was revoked", async () => {
    vault.setSecret("logic-apps-sample-key", "a-key-the-app-does-not-know-0123456789");
    try {
      const { outcome, response } = await runWorkflow({ document: "Text." }, `revoked${suffix}`);
      expect(outcome.status).toBe(401);
      expect(response.statusCode).toBe(502);
      expect(response.body).toMatchObject({ status: 401, problem: { status: 401 } });
    } finally {
      vault.setSecret("logic-apps-sample-key", ROTATED);
    }
  });
});
