import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DEV_TOKEN_LIFETIME_SECONDS, mintDevToken, resourceOf, verifyDevToken } from "../../../dev/identity/dev-token.js";

const KEY = "unit-test-signing-key";
const NOW = Date.UTC(2025, 0, 1, 12);
const input = { audience: "https://cognitiveservices.azure.com", tenantId: "tenant-1", clientId: "client-1", objectId: "object-1" };
const audience = "https://cognitiveservices.azure.com";

/** Re-signs a changed payload with the right key, to show what the verifier checks besides the signature. */
function resign(payload: Record<string, unknown>, alg = "HS256"): string {
  const head = Buffer.from(JSON.stringify({ alg, typ: "JWT" })).toString("base64url");
  const body = Buffer.from(JSON.stringify(payload)).toString("base64url");
  return `${head}.${body}.${createHmac("sha256", KEY).update(`${head}.${body}`).digest("base64url")}`;
}

const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split(".")[1] as string, "base64url").toString());

describe("mintDevToken / verifyDevToken", () => {
  it("mints an HS256 JWT with the app token's claims, which verifies for its audience", () => {
    const token = mintDevToken(input, KEY, NOW);
    const header = JSON.parse(Buffer.from(token.split(".")[0] as string, "base64url").toString());
    expect(header).toEqual({ alg: "HS256", typ: "JWT" });
    const seconds = NOW / 1000;
    const expected = {
      aud: audience,
      iss: "https://sts.windows.net/tenant-1/",
      iat: seconds,
      nbf: seconds,
      exp: seconds + DEV_TOKEN_LIFETIME_SECONDS,
      tid: "tenant-1",
      appid: "client-1",
      oid: "object-1",
      sub: "object-1",
    };
    expect(claimsOf(token)).toEqual(expected);
    expect(verifyDevToken(token, KEY, { audience, now: NOW + 1000 })).toEqual({ ok: true, claims: expected });
  });

  it("takes the resource of a /.default scope as the audience, and accepts it with or without a trailing slash", () => {
    expect(resourceOf("https://vault.azure.net/.default")).toBe("https://vault.azure.net");
    const token = mintDevToken({ ...input, audience: `${audience}/.default` }, KEY, NOW);
    expect(claimsOf(token).aud).toBe(audience);
    expect(verifyDevToken(token, KEY, { audience: `${audience}/`, now: NOW }).ok).toBe(true);
  });

  it("refuses a tampered payload, another key, and a token that is not a JWT", () => {
    const token = mintDevToken(input, KEY, NOW);
    const [head, , signature] = token.split(".");
    const forged = Buffer.from(JSON.stringify({ ...claimsOf(token), appid: "someone-else" })).toString("base64url");
    expect(verifyDevToken(`${head}.${forged}.${signature}`, KEY, { audience, now: NOW })).toEqual({ ok: false, reason: "bad signature" });
    expect(verifyDevToken(token, "another-key", { audience, now: NOW })).toEqual({ ok: false, reason: "bad signature" });
    expect(verifyDevToken(`${token}x`, KEY, { audience, now: NOW })).toEqual({ ok: false, reason: "bad signature" });
    expect(verifyDevToken("not-a-token", KEY, { audience, now: NOW })).toEqual({ ok: false, reason: "not a JWT" });
  });

  it("refuses any algorithm but HS256, even when the signature would match", () => {
    const claims = claimsOf(mintDevToken(input, KEY, NOW));
    expect(verifyDevToken(resign(claims, "none"), KEY, { audience, now: NOW })).toEqual({ ok: false, reason: "unsupported algorithm" });
    expect(verifyDevToken(resign(claims), KEY, { audience, now: NOW }).ok).toBe(true);
  });

  it("refuses an expired token and one not yet valid", () => {
    const token = mintDevToken(input, KEY, NOW);
    const expiry = NOW + DEV_TOKEN_LIFETIME_SECONDS * 1000;
    expect(verifyDevToken(token, KEY, { audience, now: expiry - 1000 }).ok).toBe(true);
    expect(verifyDevToken(token, KEY, { audience, now: expiry })).toEqual({ ok: false, reason: "expired" });
    expect(verifyDevToken(token, KEY, { audience, now: NOW - 1000 })).toEqual({ ok: false, reason: "not yet valid" });
  });

  it("refuses a token for another audience", () => {
    const token = mintDevToken({ ...input, audience: "https://vault.azure.net" }, KEY, NOW);
    expect(verifyDevToken(token, KEY, { audience, now: NOW })).toEqual({ ok: false, reason: "wrong audience https://vault.azure.net" });
    expect(verifyDevToken(token, KEY, { audience: "https://vault.azure.net", now: NOW }).ok).toBe(true);
  });

  it("refuses a correctly signed token without the lifetime claims", () => {
    expect(verifyDevToken(resign({ aud: audience }), KEY, { audience, now: NOW })).toEqual({ ok: false, reason: "malformed claims" });
  });
});
