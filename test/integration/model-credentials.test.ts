import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ManagedIdentityEndpoint } from "../../dev/identity/managed-identity-endpoint.js";
import { LocalKeyVault, type StartedVault, VAULT_RESOURCE } from "../../dev/keyvault/local-key-vault.js";
import { startTlsFront, type TlsFront } from "../../dev/stack/tls-front.js";
import { postJson, startEmulator } from "../support/emulator.js";
import { settingsFor, startHost } from "../support/host.js";
import { endpointOf } from "../support/model-api.js";

/**
 * How the app reaches the model, end to end through real clients and local peers: the key read from
 * Key Vault with the app's managed identity (and read again after a rotation), an Entra ID token for
 * an endpoint that takes one, and failing closed when the vault or the identity says no. A canary
 * key must appear in no response and no line the host prints.
 */
const APP = "6a3e0c2d-0000-4000-8000-0000000000a1"; // the app's user-assigned identity
const STRANGER = "6a3e0c2d-0000-4000-8000-0000000000a2"; // an identity with no role on the vault
const UNKNOWN = "6a3e0c2d-0000-4000-8000-0000000000ff"; // no identity of the app
const CANARY = `canary-${randomBytes(12).toString("hex")}`;
const ROTATED = `rotated-${randomBytes(12).toString("hex")}`;
const COGNITIVE_SERVICES = "https://cognitiveservices.azure.com";

type Host = Awaited<ReturnType<typeof startHost>>;
const signingKey = randomBytes(32).toString("hex");
let identity: ManagedIdentityEndpoint;
let vault: LocalKeyVault;
let started: StartedVault;
let emulator: Awaited<ReturnType<typeof startEmulator>>;
/** Entra ID tokens go over HTTPS only: the Entra deployment is reached through TLS. */
let tls: TlsFront;
const responses: string[] = [];

function hostSettings(clientId: string): Record<string, string> {
  const settings = settingsFor(inject("stackSettings"), emulator.url, {
    MODEL_MISTRAL_LARGE_AUTH: "keyvault",
    MODEL_MISTRAL_LARGE_KEY_SECRET_URI: `${started.url}/secrets/mistral-large-key`,
    MODEL_MISTRAL_SMALL_AUTH: "entra",
    MODEL_MISTRAL_SMALL_ENDPOINT: endpointOf(tls.url, "mistral-small"),
    AZURE_CLIENT_ID: clientId,
    ...identity.env(),
    ...started.env,
  });
  delete settings.MODEL_MISTRAL_LARGE_KEY;
  delete settings.MODEL_MISTRAL_SMALL_KEY;
  return settings;
}

async function chat(host: Host, model: string) {
  const answer = await postJson(
    `${host.url}/api/chat/completions`,
    { model, messages: [{ role: "user", content: "Hi" }], max_tokens: 5 },
    { "api-key": "dev-key" },
  );
  responses.push(answer.text, JSON.stringify([...answer.response.headers]));
  return answer;
}

async function readiness(host: Host) {
  const response = await fetch(`${host.url}/api/health/ready`);
  const text = await response.text();
  responses.push(text);
  return { status: response.status, checks: (JSON.parse(text) as { checks: { name: string; status: string; detail?: string }[] }).checks };
}

const chatAttempts = () => emulator.emulator.log.entries().filter((e) => e.path.endsWith("/chat/completions"));

beforeAll(async () => {
  identity = new ManagedIdentityEndpoint({ signingKey, identities: [{ clientId: APP }, { clientId: STRANGER }] });
  await identity.listen();
  vault = new LocalKeyVault({ signingKey, roles: { [APP]: "secrets-user" }, secrets: { "mistral-large-key": CANARY } });
  started = await vault.start();
  emulator = await startEmulator({ key: CANARY, entra: { signingKey, audience: COGNITIVE_SERVICES } });
  tls = await startTlsFront(Number(new URL(emulator.url).port), started.certificate);
});
afterAll(async () => {
  await tls?.close();
  await emulator?.close();
  await vault?.close();
  await identity?.close();
});

describe("the app's own identity", () => {
  let host: Host;
  beforeAll(async () => {
    host = await startHost(hostSettings(APP));
  });
  afterAll(async () => {
    const output = host.service.output();
    await host?.stop();
    // Nothing the host printed, and nothing any caller was sent, holds the key.
    expect(output).not.toContain(CANARY);
    expect(responses.join("\n")).not.toContain(CANARY);
  });

  it("reads the model key from Key Vault with the managed identity, once, and uses it", async () => {
    identity.clearLog();
    vault.clearLog();
    const [first, second] = [await chat(host, "mistral-large"), await chat(host, "mistral-large")];
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(identity.requests().map((r) => [r.resource, r.clientId, r.status])).toEqual([[VAULT_RESOURCE, APP, 200]]);
    // The challenge, then the read; the second call uses the key in memory.
    expect(vault.requests().map((r) => [r.method, r.path, r.status])).toEqual([
      ["GET", "/secrets/mistral-large-key/", 401],
      ["GET", "/secrets/mistral-large-key/", 200],
    ]);
    expect(vault.requests()[1]?.principal).toBe(APP);
  });

  it("sends an Entra ID token for the scope it names to an endpoint that takes tokens", async () => {
    identity.clearLog();
    expect((await chat(host, "mistral-small")).status).toBe(200);
    expect(identity.requests().map((r) => [r.resource, r.clientId])).toEqual([[COGNITIVE_SERVICES, APP]]);
  });

  it("picks up a rotated key: the model refuses the old one once, one re-read, the same request succeeds", async () => {
    vault.clearLog();
    emulator.emulator.log.clear();
    vault.setSecret("mistral-large-key", ROTATED);
    await postJson(`${emulator.url}/_emulator/settings`, { key: ROTATED });
    const answer = await chat(host, "mistral-large");
    expect(answer.status).toBe(200);
    expect(chatAttempts().map((e) => e.outcome?.status)).toEqual([401, 200]);
    expect(vault.requests().filter((r) => r.status === 200)).toHaveLength(1);
    expect((await chat(host, "mistral-large")).status).toBe(200);
    expect(vault.requests().filter((r) => r.status === 200)).toHaveLength(1);
  });

  it("after a rotation, a burst of refused calls shares one re-read and every call succeeds", async () => {
    await new Promise((resolve) => setTimeout(resolve, 5_100)); // re-reads are at most one per 5 s
    vault.clearLog();
    emulator.emulator.log.clear();
    vault.setSecret("mistral-large-key", CANARY);
    await postJson(`${emulator.url}/_emulator/settings`, { key: CANARY });
    const answers = await Promise.all([1, 2, 3, 4].map(() => chat(host, "mistral-large")));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect(vault.requests().filter((r) => r.status === 200)).toHaveLength(1);
    const statuses = chatAttempts().map((e) => e.outcome?.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(4);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(4);
  });

  it("is ready, with each deployment's credential checked", async () => {
    const { status, checks } = await readiness(host);
    expect(checks.filter((c) => c.status !== "ok")).toEqual([]);
    expect(status).toBe(200);
    expect(checks.filter((c) => c.name.startsWith("credential:")).map((c) => [c.name, c.status])).toEqual([
      ["credential:mistral-large", "ok"],
      ["credential:mistral-small", "ok"],
    ]);
  });
});

describe("failing closed", () => {
  it("a vault that denies the app's identity: readiness names it, calls get a 503, nothing goes upstream", async () => {
    const host = await startHost(hostSettings(STRANGER));
    try {
      emulator.emulator.log.clear();
      const refused = await chat(host, "mistral-large");
      expect(refused.status).toBe(503);
      expect(refused.json).toMatchObject({ error: { code: "model_credential_unavailable" } });
      expect(refused.response.headers.get("retry-after")).toBe("30");
      expect(chatAttempts()).toHaveLength(0);
      const { status, checks } = await readiness(host);
      expect(status).toBe(503);
      expect(checks.find((c) => c.name === "credential:mistral-large")).toMatchObject({
        status: "failed",
        detail: "MODEL_MISTRAL_LARGE_KEY_SECRET_URI: Key Vault denied access (403)",
      });
      expect(checks.find((c) => c.name === "credential:mistral-small")?.status).toBe("ok");
    } finally {
      await host.stop();
    }
  });

  it("an identity that cannot get a token: both kinds of credential fail closed, by name", async () => {
    const host = await startHost(hostSettings(UNKNOWN));
    try {
      emulator.emulator.log.clear();
      expect((await chat(host, "mistral-large")).status).toBe(503);
      const small = await chat(host, "mistral-small");
      expect(small.status).toBe(503);
      expect(small.json).toMatchObject({ error: { code: "model_credential_unavailable" } });
      expect(chatAttempts()).toHaveLength(0);
      const { checks } = await readiness(host);
      expect(checks.find((c) => c.name === "credential:mistral-large")?.detail).toBe(
        "MODEL_MISTRAL_LARGE_KEY_SECRET_URI: the app's identity could not get a token",
      );
      expect(checks.find((c) => c.name === "credential:mistral-small")?.detail).toBe(
        `the app's identity could not get a token for ${COGNITIVE_SERVICES}/.default`,
      );
    } finally {
      await host.stop();
    }
  });
});
