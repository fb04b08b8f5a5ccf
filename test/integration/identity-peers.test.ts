import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { request } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ManagedIdentityEndpoint } from "../../dev/identity/managed-identity-endpoint.js";
import { LocalKeyVault, type StartedVault, VAULT_RESOURCE } from "../../dev/keyvault/local-key-vault.js";
import { EMULATOR_KEY, startEmulator } from "../support/emulator.js";

/**
 * The local identity endpoint and Key Vault, held to the real clients: a child process runs the real
 * ManagedIdentityCredential and SecretClient with default options, configured by its environment only,
 * as the deployed app would be.
 */
const APP = "a1b2c3d4-0000-4000-8000-000000000001"; // Key Vault Secrets User
const OFFICER = "a1b2c3d4-0000-4000-8000-000000000002"; // Key Vault Secrets Officer
const STRANGER = "a1b2c3d4-0000-4000-8000-000000000003"; // an identity of the app without any role on the vault
const UNKNOWN = "a1b2c3d4-0000-4000-8000-0000000000ff"; // not an identity of the app at all
const COGNITIVE_SERVICES = "https://cognitiveservices.azure.com";
const CLIENT = join(__dirname, "..", "fixtures", "identity-client", "client.cjs");

const signingKey = randomBytes(32).toString("hex");
let identity: ManagedIdentityEndpoint;
let vault: LocalKeyVault;
let started: StartedVault;

beforeAll(async () => {
  identity = new ManagedIdentityEndpoint({ signingKey, identities: [{ clientId: APP }, { clientId: OFFICER }, { clientId: STRANGER }] });
  await identity.listen();
  vault = new LocalKeyVault({ signingKey, roles: { [APP]: "secrets-user", [OFFICER]: "secrets-officer" }, secrets: { "model-key": "first-value" } });
  started = await vault.start();
});
afterAll(async () => {
  await vault?.close();
  await identity?.close();
});
beforeEach(() => {
  identity.clearLog();
  vault.clearLog();
});

interface ClientResult {
  ok: boolean;
  value?: string;
  version?: string;
  vaultUrl?: string;
  token?: string;
  name?: string;
  statusCode?: number;
  code?: string;
  message?: string;
}

/** Runs the client with only the environment a deployed app would have (nothing inherited but PATH). */
async function runClient(args: string[], clientId = APP): Promise<ClientResult> {
  const env = { PATH: process.env.PATH ?? "", ...identity.env(), ...started.env, AZURE_CLIENT_ID: clientId };
  const child = spawn(process.execPath, [CLIENT, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (data: Buffer) => (stdout += data.toString()));
  child.stderr.on("data", (data: Buffer) => (stderr += data.toString()));
  await new Promise((resolve) => child.once("close", resolve));
  try {
    return JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as ClientResult;
  } catch {
    throw new Error(`client printed no result:\n${stdout}\n${stderr}`);
  }
}

const getSecret = (name: string, clientId?: string) => runClient(["secret", started.url, name], clientId);

describe("SecretClient with ManagedIdentityCredential against the local peers", () => {
  it("gets the secret through Key Vault's challenge, with a token the credential got for the vault's resource", async () => {
    const result = await getSecret("model-key");
    expect(result).toMatchObject({ ok: true, value: "first-value", vaultUrl: started.url });
    expect(result.version).toMatch(/^[0-9a-f]{32}$/);

    expect(identity.requests()).toEqual([expect.objectContaining({ resource: VAULT_RESOURCE, clientId: APP, status: 200 })]);
    const vaultLog = vault.requests().map(({ method, path, status, principal, code }) => ({ method, path, status, principal, code }));
    expect(vaultLog).toEqual([
      { method: "GET", path: "/secrets/model-key/", status: 401, principal: null, code: "Unauthorized" },
      { method: "GET", path: "/secrets/model-key/", status: 200, principal: APP, code: null },
    ]);
    // The logs say who asked for what, never the header secret, a token or a value.
    const logs = JSON.stringify([identity.requests(), vault.requests()]);
    expect(logs).not.toContain(identity.header);
    expect(logs).not.toContain("first-value");
    expect(logs).not.toContain("eyJ");
  });

  it("reads the newest version after a rotation", async () => {
    const before = await getSecret("model-key");
    const { version } = vault.setSecret("model-key", "rotated-value");
    const after = await getSecret("model-key");
    expect(after).toMatchObject({ ok: true, value: "rotated-value", version });
    expect(after.version).not.toBe(before.version);
  });

  it("answers 404 SecretNotFound for a secret the vault does not hold", async () => {
    const result = await getSecret("no-such-secret");
    expect(result).toMatchObject({ ok: false, name: "RestError", statusCode: 404, code: "SecretNotFound" });
  });

  it("refuses an identity without a role with 403 Forbidden, until it is allowed, and again once denied", async () => {
    expect(await getSecret("model-key", STRANGER)).toMatchObject({ ok: false, name: "RestError", statusCode: 403, code: "Forbidden" });
    expect(vault.requests().at(-1)).toMatchObject({ status: 403, principal: STRANGER, code: "Forbidden" });

    vault.allow(STRANGER);
    expect(await getSecret("model-key", STRANGER)).toMatchObject({ ok: true });
    vault.deny(STRANGER);
    expect(await getSecret("model-key", STRANGER)).toMatchObject({ ok: false, statusCode: 403 });
  });

  it("lets a Secrets Officer set a secret, and refuses the same to a Secrets User", async () => {
    const set = await runClient(["set", started.url, "new-secret", "officer-value"], OFFICER);
    expect(set).toMatchObject({ ok: true, vaultUrl: started.url });
    expect(await getSecret("new-secret")).toMatchObject({ ok: true, value: "officer-value", version: set.version });

    expect(await runClient(["set", started.url, "new-secret", "user-value"], APP)).toMatchObject({ ok: false, statusCode: 403, code: "Forbidden" });
    expect(await getSecret("new-secret")).toMatchObject({ value: "officer-value" });
  });

  it("tunnels to the vault's host only: its proxy is no open proxy", async () => {
    const connect = (target: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(started.proxyUrl, { method: "CONNECT", path: target });
        req.once("connect", (response, socket) => {
          socket.destroy();
          resolve(response.statusCode ?? 0);
        });
        req.once("error", reject);
        req.end();
      });
    expect(await connect("example.com:443")).toBe(403);
    expect(await connect(`127.0.0.1:${new URL(started.url).port}`)).toBe(403);
    expect(await connect(new URL(started.url).host)).toBe(200);
  });

  it("fails in ManagedIdentityCredential for a client id the app has no identity for, before any secret is read", async () => {
    const result = await getSecret("model-key", UNKNOWN);
    expect(result).toMatchObject({ ok: false, name: "CredentialUnavailableError" });
    expect(result.message).toContain("Unable to load the proper Managed Identity.");
    expect(identity.requests()).toEqual([expect.objectContaining({ clientId: UNKNOWN, status: 400 })]);
    expect(vault.requests().map((r) => r.status)).toEqual([401]);
  });

  it("fails in ManagedIdentityCredential while the identity endpoint refuses tokens", async () => {
    identity.fail(403, "Token service refused.");
    try {
      const result = await runClient(["token", `${COGNITIVE_SERVICES}/.default`]);
      expect(result).toMatchObject({ ok: false, name: "CredentialUnavailableError" });
      expect(result.message).toContain("Token service refused.");
    } finally {
      identity.recover();
    }
  });
});

describe("the identity endpoint's App Service protocol", () => {
  const tokenUrl = (query: string) => `${identity.env().IDENTITY_ENDPOINT}?${query}`;
  const ask = (query: string, header: string | null = identity.header) =>
    fetch(tokenUrl(query), { headers: header === null ? {} : { "X-IDENTITY-HEADER": header } });

  it("answers a token for the resource, to the identity named", async () => {
    const response = await ask(`api-version=2019-08-01&resource=${COGNITIVE_SERVICES}/.default&client_id=${APP}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, string>;
    expect(body).toMatchObject({ resource: COGNITIVE_SERVICES, token_type: "Bearer", client_id: APP });
    const expiresIn = Number(body.expires_on) - Date.now() / 1000;
    expect(expiresIn).toBeGreaterThan(3590);
    expect(expiresIn).toBeLessThanOrEqual(3600);
  });

  it("refuses a missing or wrong header with 401, a missing resource and an app without a system identity with 400", async () => {
    const query = `api-version=2019-08-01&resource=${COGNITIVE_SERVICES}&client_id=${APP}`;
    expect((await ask(query, null)).status).toBe(401);
    expect((await ask(query, "wrong")).status).toBe(401);
    const noResource = await ask(`api-version=2019-08-01&client_id=${APP}`);
    expect(noResource.status).toBe(400);
    expect(await noResource.json()).toMatchObject({ statusCode: 400, message: "Required query parameter resource is missing." });
    expect((await ask(`api-version=2019-08-01&resource=${COGNITIVE_SERVICES}`)).status).toBe(400);
    expect(identity.requests().map((r) => r.status)).toEqual([401, 401, 400, 400]);
  });

  it("answers the failure it is told to until it recovers", async () => {
    const query = `api-version=2019-08-01&resource=${COGNITIVE_SERVICES}&client_id=${APP}`;
    identity.fail();
    const failed = await ask(query);
    expect(failed.status).toBe(500);
    expect(await failed.json()).toMatchObject({ statusCode: 500 });
    identity.recover();
    expect((await ask(query)).status).toBe(200);
  });
});

describe("the model emulator with Entra tokens and a rotated key", () => {
  let emulator: Awaited<ReturnType<typeof startEmulator>>;
  beforeAll(async () => {
    emulator = await startEmulator({ entra: { signingKey, audience: COGNITIVE_SERVICES } });
  });
  afterAll(() => emulator?.close());
  beforeEach(() => emulator.emulator.reset());

  const info = (headers: Record<string, string>, base = emulator.url) => fetch(`${base}/mistral-large/info`, { headers });

  it("accepts a token the real credential got for Cognitive Services", async () => {
    const { token } = await runClient(["token", `${COGNITIVE_SERVICES}/.default`]);
    expect(token).toBeTypeOf("string");
    expect((await info({ authorization: `Bearer ${token}` })).status).toBe(200);

    // Accepted because the emulator was given the signing key; one without it refuses the same token.
    const plain = await startEmulator();
    try {
      expect((await info({ authorization: `Bearer ${token}` }, plain.url)).status).toBe(401);
    } finally {
      await plain.close();
    }
  });

  it("refuses a token of the identity endpoint for another audience with 401", async () => {
    const response = await fetch(`${identity.env().IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=https://ml.azure.com&client_id=${APP}`, {
      headers: { "X-IDENTITY-HEADER": identity.header },
    });
    const { access_token } = (await response.json()) as { access_token: string };
    const refused = await info({ authorization: `Bearer ${access_token}` });
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as any).error.code).toBe("unauthorized");
  });

  it("takes a new key through the admin API: the old key fails, the new one works, and it is never shown", async () => {
    const settings = `${emulator.url}/_emulator/settings`;
    const post = (body: unknown) => fetch(settings, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    expect((await post({ key: "" })).status).toBe(400);
    expect((await post({ key: 42 })).status).toBe(400);

    const changed = await post({ key: "rotated-emulator-key" });
    expect(changed.status).toBe(200);
    const shown = await changed.text();
    expect(shown).not.toContain("rotated-emulator-key");
    expect(JSON.parse(shown)).toMatchObject({ key: "[redacted]" });
    expect(await (await fetch(settings)).text()).not.toContain("rotated-emulator-key");

    expect((await info({ "api-key": EMULATOR_KEY })).status).toBe(401);
    expect((await info({ "api-key": "rotated-emulator-key" })).status).toBe(200);
    expect((await info({ authorization: "Bearer rotated-emulator-key" })).status).toBe(200);

    // Posting back what GET shows leaves the key as it is.
    expect((await post(JSON.parse(shown))).status).toBe(200);
    expect((await info({ "api-key": "rotated-emulator-key" })).status).toBe(200);

    // A reset goes back to the start-up key, as it does for every setting.
    await fetch(`${emulator.url}/_emulator/reset`, { method: "POST" });
    expect((await info({ "api-key": EMULATOR_KEY })).status).toBe(200);
  });
});
