import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { Agent, fetch as undiciFetch } from "undici";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { LOCAL_API_CLIENT_ID, LOCAL_SPA_CLIENT_ID, LOCAL_TENANT_ID, LocalIssuer, objectIdOf, type StartedIssuer } from "../../dev/oidc/local-issuer.js";
import { startEmulator } from "../support/emulator.js";
import { settingsFor, startHost } from "../support/host.js";

/**
 * The local OpenID Connect issuer driven as a page's sign-in code drives it (the authorization code flow with
 * PKCE, by hand here; the browser tests run MSAL.js itself), and the app taking its access tokens as it takes
 * Entra ID's: the user with the chat role in, the one without a 403, a tampered token a 401, keys unchanged.
 */
const REDIRECT = "http://localhost:4280/";
let issuer: LocalIssuer;
let started: StartedIssuer;
let agent: Agent;
let emulator: Awaited<ReturnType<typeof startEmulator>>;
let host: Awaited<ReturnType<typeof startHost>>;

beforeAll(async () => {
  issuer = new LocalIssuer({ redirectUris: [REDIRECT] });
  started = await issuer.start();
  agent = new Agent({ connect: { ca: readFileSync(started.caFile, "utf8") } });
  emulator = await startEmulator();
  host = await startHost(
    settingsFor(inject("stackSettings"), emulator.url, {
      ENTRA_TENANT_ID: LOCAL_TENANT_ID,
      ENTRA_API_AUDIENCE: `${LOCAL_API_CLIENT_ID},api://${LOCAL_API_CLIENT_ID}`,
      ENTRA_AUTHORITY: started.authority,
      // The app reaches the issuer's keys over HTTPS, trusting its CA as it trusts Azure's.
      NODE_EXTRA_CA_CERTS: started.caFile,
    }),
  );
});
afterAll(async () => {
  await host?.stop();
  await emulator?.close();
  await agent?.close();
  await issuer?.close();
});

const issuerFetch = (url: string, init: Parameters<typeof undiciFetch>[1] = {}) => undiciFetch(url, { ...init, dispatcher: agent, redirect: "manual" });
const base = () => `https://${started.host}/${LOCAL_TENANT_ID}`;

/** The flow a page runs: the authorize request with a PKCE challenge, the sign-in form, the code for tokens. */
async function signIn(user: string, overrides: { verifier?: string } = {}) {
  const verifier = randomBytes(32).toString("base64url");
  const params = new URLSearchParams({
    client_id: LOCAL_SPA_CLIENT_ID,
    redirect_uri: REDIRECT,
    response_type: "code",
    response_mode: "fragment",
    scope: `api://${LOCAL_API_CLIENT_ID}/Chat openid profile offline_access`,
    state: "s-123",
    nonce: "n-456",
    code_challenge: createHash("sha256").update(verifier).digest("base64url"),
    code_challenge_method: "S256",
  });
  const page = await issuerFetch(`${base()}/oauth2/v2.0/authorize?${params}`);
  const form = await issuerFetch(`${base()}/oauth2/v2.0/authorize`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams([...params, ["username", user]]).toString(),
  });
  const location = form.headers.get("location") ?? "";
  const answer = new URLSearchParams(location.split("#")[1] ?? "");
  const token = await issuerFetch(`${base()}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: "http://localhost:4280" },
    body: new URLSearchParams({
      client_id: LOCAL_SPA_CLIENT_ID,
      grant_type: "authorization_code",
      code: answer.get("code") ?? "",
      redirect_uri: REDIRECT,
      code_verifier: overrides.verifier ?? verifier,
    }).toString(),
  });
  return { page, pageText: await page.text(), form, location, answer, token, tokens: (await token.json()) as Record<string, string> };
}

const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString("utf8"));
const info = (authorization: Record<string, string>) => fetch(`${host.url}/api/info`, { headers: authorization });

describe("the local issuer", () => {
  it("publishes Entra ID's discovery document and keys at Entra ID's paths", async () => {
    const discovery = (await (await issuerFetch(`${started.authority}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(discovery).toMatchObject({ issuer: started.authority, jwks_uri: `${base()}/discovery/v2.0/keys`, code_challenge_methods_supported: ["S256"] });
    const keys = (await (await issuerFetch(`${base()}/discovery/v2.0/keys`)).json()) as { keys: { kty: string; alg: string }[] };
    expect(keys.keys).toEqual([expect.objectContaining({ kty: "RSA", alg: "RS256" })]);
  });

  it("signs a user in with a page asking for a user name, and gives tokens for the API for the PKCE verifier", async () => {
    const flow = await signIn("ada");
    expect(flow.pageText).toContain('<label for="username">User name</label>');
    expect(flow.pageText).toContain('<button type="submit">Sign in</button>');
    expect(flow.form.status).toBe(302);
    expect(flow.location.startsWith(`${REDIRECT}#`)).toBe(true);
    expect(flow.answer.get("state")).toBe("s-123");
    expect(flow.token.headers.get("access-control-allow-origin")).toBe("http://localhost:4280");
    const access = claimsOf(flow.tokens.access_token ?? "");
    expect(access).toMatchObject({
      iss: started.authority,
      aud: LOCAL_API_CLIENT_ID,
      tid: LOCAL_TENANT_ID,
      oid: objectIdOf("ada"),
      roles: ["Chat.Use"],
      scp: "Chat",
    });
    expect(claimsOf(flow.tokens.id_token ?? "")).toMatchObject({ aud: LOCAL_SPA_CLIENT_ID, nonce: "n-456", name: "ada" });
  });

  it("refuses a wrong PKCE verifier, a code used twice, and a redirect URI it does not know", async () => {
    expect((await signIn("ada", { verifier: "not-the-verifier" })).tokens).toMatchObject({ error: "invalid_grant" });
    const params = new URLSearchParams({
      client_id: LOCAL_SPA_CLIENT_ID,
      redirect_uri: "https://evil.example/",
      response_type: "code",
      code_challenge: "x",
      code_challenge_method: "S256",
    });
    const refused = await issuerFetch(`${base()}/oauth2/v2.0/authorize?${params}`);
    expect(refused.status).toBe(400);
    expect(await refused.text()).not.toContain("User name");
  });
});

describe("the app with the local issuer's tokens", () => {
  it("lets a signed-in user with the chat role in, as entra:<object id>", async () => {
    const { tokens } = await signIn("ada");
    const response = await info({ authorization: `Bearer ${tokens.access_token}` });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { deployments: unknown[] }).deployments.length).toBeGreaterThan(0);
  });

  it("answers 403 missing_role for a user without the role, and 401 invalid_token for a tampered or foreign token", async () => {
    const { tokens } = await signIn("no-role");
    const forbidden = await info({ authorization: `Bearer ${tokens.access_token}` });
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toMatchObject({ code: "missing_role" });
    // The ID token is for the page, not the API.
    const { tokens: ada } = await signIn("ada");
    const wrongAudience = await info({ authorization: `Bearer ${ada.id_token}` });
    expect(wrongAudience.status).toBe(401);
    expect(await wrongAudience.json()).toMatchObject({ code: "invalid_token", detail: "The access token is not for this API." });
    const [header, payload, signature] = (ada.access_token ?? "").split(".");
    const claims = JSON.parse(Buffer.from(payload ?? "", "base64url").toString("utf8"));
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, oid: objectIdOf("mallory") })).toString("base64url")}.${signature}`;
    const tampered = await info({ authorization: `Bearer ${forged}` });
    expect(tampered.status).toBe(401);
    expect(await tampered.json()).toMatchObject({ code: "invalid_token" });
  });

  it("keeps taking caller keys", async () => {
    expect((await info({ "api-key": "dev-key" })).status).toBe(200);
    expect((await info({ authorization: "Bearer dev-key" })).status).toBe(200);
  });
});
