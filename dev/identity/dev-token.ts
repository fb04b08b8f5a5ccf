import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Access tokens of the local identity endpoint: JWTs shaped like Entra ID v1 app tokens, signed HS256 with a
 * key shared by the local peers (identity endpoint, Key Vault, model emulator). Entra signs RS256 with keys
 * published at a discovery URL; a shared HMAC key keeps the peers free of any key discovery while every
 * peer still checks signature, lifetime and audience the way a real resource does.
 */
export interface DevTokenClaims {
  aud: string;
  iss: string;
  iat: number;
  nbf: number;
  exp: number;
  tid: string;
  /** The client (application) id of the identity. */
  appid: string;
  /** The identity's object id; also `sub`, as in app-only tokens. */
  oid: string;
  sub: string;
}

export interface MintInput {
  audience: string;
  tenantId: string;
  clientId: string;
  objectId: string;
}

export type VerifyResult = { ok: true; claims: DevTokenClaims } | { ok: false; reason: string };

/** A fixed, obviously local tenant, so the peers' tokens and challenges agree without configuration. */
export const DEV_TENANT_ID = "00000000-0000-4000-8000-00000000d3e7";

/** One hour, as Entra's managed identity tokens (at least; they may live up to 24 h). */
export const DEV_TOKEN_LIFETIME_SECONDS = 3600;

export function mintDevToken(input: MintInput, signingKey: string, now = Date.now()): string {
  const seconds = Math.floor(now / 1000);
  const claims: DevTokenClaims = {
    aud: resourceOf(input.audience),
    iss: `https://sts.windows.net/${input.tenantId}/`,
    iat: seconds,
    nbf: seconds,
    exp: seconds + DEV_TOKEN_LIFETIME_SECONDS,
    tid: input.tenantId,
    appid: input.clientId,
    oid: input.objectId,
    sub: input.objectId,
  };
  const signed = `${encode({ alg: "HS256", typ: "JWT" })}.${encode(claims)}`;
  return `${signed}.${sign(signed, signingKey).toString("base64url")}`;
}

/**
 * Checks a token as a resource would: HS256 only (never `none` or another algorithm the header asks for),
 * the signature in constant time, the lifetime, and the audience (with or without one trailing slash, since
 * clients ask for either form of a resource).
 */
export function verifyDevToken(token: string, signingKey: string, expected: { audience: string; now?: number }): VerifyResult {
  const parts = token.split(".");
  if (parts.length !== 3) return fail("not a JWT");
  const [header, payload, signature] = parts as [string, string, string];
  const head = decode(header) as { alg?: unknown } | undefined;
  if (head?.alg !== "HS256") return fail("unsupported algorithm");
  const given = Buffer.from(signature, "base64url");
  const wanted = sign(`${header}.${payload}`, signingKey);
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) return fail("bad signature");
  const claims = decode(payload) as Partial<DevTokenClaims> | undefined;
  if (!claims || typeof claims.exp !== "number" || typeof claims.nbf !== "number" || typeof claims.aud !== "string") {
    return fail("malformed claims");
  }
  const seconds = Math.floor((expected.now ?? Date.now()) / 1000);
  if (seconds >= claims.exp) return fail("expired");
  if (seconds < claims.nbf) return fail("not yet valid");
  if (trimSlash(claims.aud) !== trimSlash(expected.audience)) return fail(`wrong audience ${claims.aud}`);
  return { ok: true, claims: claims as DevTokenClaims };
}

/** The resource of a scope: `https://vault.azure.net/.default` asks for a token for `https://vault.azure.net`. */
export function resourceOf(scopeOrResource: string): string {
  return scopeOrResource.endsWith("/.default") ? scopeOrResource.slice(0, -"/.default".length) : scopeOrResource;
}

function sign(text: string, key: string): Buffer {
  return createHmac("sha256", key).update(text).digest();
}

function encode(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

function decode(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
}

function trimSlash(audience: string): string {
  return audience.endsWith("/") ? audience.slice(0, -1) : audience;
}

function fail(reason: string): VerifyResult {
  return { ok: false, reason };
}
