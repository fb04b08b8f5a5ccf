import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { HttpRequest } from "@azure/functions";
import { exportJWK, generateKeyPair, type JWK, type KeyLike, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SignedInUsersConfig } from "../../../src/config/index.js";
import { authenticateCaller } from "../../../src/http/caller-auth.js";
import { HttpProblem } from "../../../src/lib/problem.js";

/**
 * The app's own check of Entra ID access tokens (http/access-token.ts), against an issuer of the test's own:
 * its discovery document and keys on localhost, tokens signed as Entra ID signs them (RS256, a `kid`).
 */
const TENANT = "8a1b2c3d-0000-4000-8000-00000000aaaa";
const OTHER_TENANT = "8a1b2c3d-0000-4000-8000-00000000bbbb";
const API = "5e6f7a8b-0000-4000-8000-00000000c11e";
const USER = "0f0e0d0c-0000-4000-8000-000000000001";
let server: Server;
let authority: string;
let keys: { privateKey: KeyLike; jwk: JWK };
let stranger: { privateKey: KeyLike };
let config: SignedInUsersConfig;
let jwksRequests = 0;

beforeAll(async () => {
  const pair = await generateKeyPair("RS256");
  keys = { privateKey: pair.privateKey as KeyLike, jwk: { ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "RS256", use: "sig" } };
  stranger = { privateKey: (await generateKeyPair("RS256")).privateKey as KeyLike };
  server = createServer((req, res) => {
    const path = req.url ?? "";
    res.setHeader("content-type", "application/json");
    if (path.endsWith("/.well-known/openid-configuration")) return res.end(JSON.stringify({ issuer: authority, jwks_uri: `${authority}/keys` }));
    if (path.endsWith("/keys")) {
      jwksRequests++;
      return res.end(JSON.stringify({ keys: [keys.jwk] }));
    }
    res.statusCode = 404;
    res.end("{}");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  authority = `http://localhost:${(server.address() as AddressInfo).port}/${TENANT}/v2.0`;
  config = { tenantId: TENANT, audiences: [API, `api://${API}`], role: "Chat.Use", authority };
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

interface Claims {
  aud?: string;
  iss?: string;
  tid?: string;
  roles?: string[];
  exp?: number;
  oid?: string;
}

async function token(claims: Claims = {}, signer: KeyLike = keys.privateKey): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const { exp = now + 3600, aud = API, iss = authority, ...rest } = claims;
  return new SignJWT({ tid: TENANT, oid: USER, roles: ["Chat.Use"], ver: "2.0", ...rest })
    .setProtectedHeader({ alg: "RS256", kid: "k1", typ: "JWT" })
    .setIssuer(iss)
    .setAudience(aud)
    .setIssuedAt(now - 60)
    .setExpirationTime(exp)
    .sign(signer);
}

const KEY = "server-key-0123456789";
const keyList = [{ name: "server", sha256: createHash("sha256").update(KEY).digest() }];
const request = (headers: Record<string, string>) => new HttpRequest({ url: "http://localhost/api/chat", method: "POST", headers });
const rules = () => ({ keys: keyList, platformAuth: false, signedInUsers: config });

async function refusal(headers: Record<string, string>): Promise<HttpProblem> {
  try {
    await authenticateCaller(request(headers), rules());
  } catch (error) {
    expect(error).toBeInstanceOf(HttpProblem);
    return error as HttpProblem;
  }
  throw new Error("expected the token to be refused");
}

const bearer = (value: string) => ({ authorization: `Bearer ${value}` });

describe("Entra ID access tokens", () => {
  it("let in a user of the tenant with the chat role, by object id, for either audience", async () => {
    expect(await authenticateCaller(request(bearer(await token())), rules())).toEqual({ id: `entra:${USER}` });
    expect(await authenticateCaller(request(bearer(await token({ aud: `api://${API}` }))), rules())).toEqual({ id: `entra:${USER}` });
  });

  it("refuse a token for another API, with 401 invalid_token saying why", async () => {
    const problem = await refusal(bearer(await token({ aud: "00000003-0000-0000-c000-000000000000" })));
    expect(problem).toMatchObject({ status: 401, code: "invalid_token", detail: "The access token is not for this API." });
    expect(problem.headers?.["www-authenticate"]).toMatch(/^Bearer error="invalid_token"/);
  });

  it("refuse a token of another tenant: another issuer, or this issuer's URL with another tid", async () => {
    const otherIssuer = authority.replace(TENANT, OTHER_TENANT);
    expect(await refusal(bearer(await token({ iss: otherIssuer, tid: OTHER_TENANT })))).toMatchObject({
      status: 401,
      detail: "The access token is from another issuer.",
    });
    expect(await refusal(bearer(await token({ tid: OTHER_TENANT })))).toMatchObject({ status: 401, detail: "The access token is from another tenant." });
  });

  it("refuse an expired token (past the minute of clock skew allowed)", async () => {
    const now = Math.floor(Date.now() / 1000);
    expect(await refusal(bearer(await token({ exp: now - 120 })))).toMatchObject({ status: 401, detail: "The access token has expired." });
    expect(await authenticateCaller(request(bearer(await token({ exp: now - 30 }))), rules())).toEqual({ id: `entra:${USER}` });
  });

  it("answer 403 missing_role for a valid token of a user without the chat role", async () => {
    expect(await refusal(bearer(await token({ roles: ["Reader"] })))).toMatchObject({ status: 403, code: "missing_role" });
    expect(await refusal(bearer(await token({ roles: [] })))).toMatchObject({ status: 403, code: "missing_role" });
  });

  it("refuse a token signed by another key, an unsigned one, and one without a user", async () => {
    expect(await refusal(bearer(await token({}, stranger.privateKey)))).toMatchObject({ status: 401, code: "invalid_token" });
    const [header, payload] = (await token()).split(".");
    const unsigned = `${Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url")}.${payload}.AA`;
    expect(await refusal(bearer(unsigned))).toMatchObject({ status: 401, code: "invalid_token" });
    expect(await refusal(bearer(`${header}.${payload}.AAAA`))).toMatchObject({ status: 401, code: "invalid_token" });
    expect(await refusal(bearer(await token({ oid: "not-a-guid" })))).toMatchObject({ status: 401, detail: "The access token names no user (oid)." });
  });

  it("keep caller keys working beside tokens, as api-key or bearer, and fetch the issuer's keys once", async () => {
    const before = jwksRequests;
    expect(await authenticateCaller(request({ "api-key": KEY }), rules())).toEqual({ id: "key:server", keyName: "server" });
    expect(await authenticateCaller(request(bearer(KEY)), rules())).toEqual({ id: "key:server", keyName: "server" });
    for (let i = 0; i < 3; i++) await authenticateCaller(request(bearer(await token())), rules());
    expect(jwksRequests - before).toBeLessThanOrEqual(1);
    // A wrong key that is no token is simply no caller (401 unauthorized upstream), not a token problem.
    expect(await authenticateCaller(request(bearer("wrong-key")), rules())).toBeUndefined();
  });

  it("ignore tokens when signed-in users are off: no caller", async () => {
    expect(await authenticateCaller(request(bearer(await token())), { keys: keyList, platformAuth: false })).toBeUndefined();
  });

  it("answer 503 token_keys_unavailable when the issuer's keys are out of reach, and try again on the next request", async () => {
    const unreachable: SignedInUsersConfig = { ...config, authority: "http://127.0.0.1:1/nowhere/v2.0" };
    const problem = await authenticateCaller(request(bearer(await token())), { keys: keyList, platformAuth: false, signedInUsers: unreachable }).catch(
      (error: unknown) => error,
    );
    expect(problem).toMatchObject({ status: 503, code: "token_keys_unavailable" });
    expect(await authenticateCaller(request({ "api-key": KEY }), { keys: keyList, platformAuth: false, signedInUsers: unreachable })).toMatchObject({
      id: "key:server",
    });
  });
});
