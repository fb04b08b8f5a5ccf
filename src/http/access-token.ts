import type { SignedInUsersConfig } from "../config/index.js";
import { HttpProblem } from "../lib/problem.js";

/** A user an access token proves: the object id (stable, unlike names and e-mail addresses). */
export interface SignedInUser {
  objectId: string;
}

type Jose = typeof import("jose");
type KeySet = ReturnType<Jose["createRemoteJWKSet"]>;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Entra ID signs access tokens with RS256; nothing weaker (and never `none`) is taken. */
const ALGORITHMS = ["RS256"];
/** Clocks drift: a token a minute past `exp` (or before `nbf`) is still taken, as Entra's own libraries do. */
const CLOCK_TOLERANCE_S = 60;

/**
 * Checks Entra ID access tokens for this app's API, the app's own check rather than App Service
 * Authentication's, so the local stack (its OpenID Connect issuer) and Azure behave the same: the signature
 * with the issuer's published keys (from its discovery document, cached and refreshed by `jose`), then
 * `iss`, `aud`, `exp`/`nbf`, the tenant (`tid`) and the app role. Any failure is a 401 `invalid_token`; a
 * valid token without the role is a 403 `missing_role`. Made once per configuration; `jose` and the keys
 * are loaded with the first token, not at start-up.
 */
export class AccessTokenVerifier {
  readonly #config: SignedInUsersConfig;
  #keys: Promise<{ jose: Jose; keys: KeySet }> | undefined;

  constructor(config: SignedInUsersConfig) {
    this.#config = config;
  }

  async verify(token: string): Promise<SignedInUser> {
    const { jose, keys } = await this.#keySet();
    let payload: import("jose").JWTPayload;
    try {
      ({ payload } = await jose.jwtVerify(token, keys, {
        issuer: this.#config.authority,
        audience: [...this.#config.audiences],
        algorithms: ALGORITHMS,
        clockTolerance: CLOCK_TOLERANCE_S,
        requiredClaims: ["exp", "tid", "oid"],
      }));
    } catch (error) {
      // The keys out of reach is not the token's fault: 503, as when discovery fails.
      if (error instanceof jose.errors.JWKSTimeout || !(error instanceof jose.errors.JOSEError)) throw keysUnavailable(error);
      throw invalidToken(reasonOf(jose, error));
    }
    if (String(payload.tid).toLowerCase() !== this.#config.tenantId) throw invalidToken("The access token is from another tenant.");
    if (typeof payload.oid !== "string" || !GUID.test(payload.oid)) throw invalidToken("The access token names no user (oid).");
    const roles = Array.isArray(payload.roles) ? payload.roles : [];
    if (!roles.includes(this.#config.role)) {
      throw new HttpProblem({
        status: 403,
        code: "missing_role",
        title: "Forbidden",
        detail: `The signed-in user does not have the app role ${this.#config.role}; an administrator assigns it in the app's enterprise application.`,
        headers: { "www-authenticate": 'Bearer error="insufficient_scope"' },
      });
    }
    return { objectId: payload.oid.toLowerCase() };
  }

  /** The issuer's signing keys, from `jwks_uri` in its discovery document; a failed discovery is tried again by the next request. */
  #keySet(): Promise<{ jose: Jose; keys: KeySet }> {
    this.#keys ??= (async () => {
      const jose = require("jose") as Jose;
      const discovery = await fetch(`${this.#config.authority}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(5_000) });
      const jwksUri = discovery.ok ? ((await discovery.json()) as { jwks_uri?: unknown }).jwks_uri : undefined;
      if (typeof jwksUri !== "string") throw new Error(`the issuer's discovery document answered ${discovery.status} without jwks_uri`);
      return { jose, keys: jose.createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: 5_000, cooldownDuration: 30_000, cacheMaxAge: 3_600_000 }) };
    })();
    return this.#keys.catch((error: unknown) => {
      this.#keys = undefined;
      throw keysUnavailable(error);
    });
  }
}

const verifiers = new WeakMap<SignedInUsersConfig, AccessTokenVerifier>();

/** The one verifier of a configuration: its cached keys serve every request. */
export function accessTokenVerifier(config: SignedInUsersConfig): AccessTokenVerifier {
  let verifier = verifiers.get(config);
  if (!verifier) {
    verifier = new AccessTokenVerifier(config);
    verifiers.set(config, verifier);
  }
  return verifier;
}

/** A compact JWS: three base64url parts. A bearer value that is not one is a key, or nothing. */
export function looksLikeJwt(value: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(value);
}

function reasonOf(jose: Jose, error: unknown): string {
  if (error instanceof jose.errors.JWTExpired) return "The access token has expired.";
  if (error instanceof jose.errors.JWTClaimValidationFailed) {
    if (error.claim === "aud") return "The access token is not for this API.";
    if (error.claim === "iss") return "The access token is from another issuer.";
    if (error.claim === "nbf") return "The access token is not valid yet.";
    return `The access token lacks a valid ${error.claim} claim.`;
  }
  return "The access token is not valid.";
}

function invalidToken(detail: string): HttpProblem {
  return new HttpProblem({
    status: 401,
    code: "invalid_token",
    title: "Unauthorized",
    detail,
    headers: { "www-authenticate": `Bearer error="invalid_token", error_description="${detail}"` },
  });
}

/** The keys could not be had: not the caller's fault, and nobody is let in meanwhile. */
function keysUnavailable(error: unknown): HttpProblem {
  if (error instanceof HttpProblem) return error;
  return new HttpProblem({
    status: 503,
    code: "token_keys_unavailable",
    title: "Service Unavailable",
    detail: "The app cannot check access tokens right now (the issuer's keys are out of reach); keys still work.",
    headers: { "retry-after": "10" },
  });
}
