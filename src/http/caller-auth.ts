import { hash, timingSafeEqual } from "node:crypto";
import type { HttpRequest } from "@azure/functions";
import type { CallerKeyConfig, SignedInUsersConfig } from "../config/index.js";
import { accessTokenVerifier, looksLikeJwt } from "./access-token.js";
import { decodeClientPrincipal } from "./client-principal.js";

export interface Caller {
  /** Stable id of the caller, `key:<name>` or `entra:<object id>`; what quotas and telemetry are keyed by. */
  id: string;
  /** The key's name, for keys; per-key quota overrides are looked up by it. */
  keyName?: string;
}

export interface CallerRules {
  keys: readonly CallerKeyConfig[];
  /** Whether App Service Authentication is on, so `x-ms-client-principal` comes from the platform. */
  platformAuth: boolean;
  /** Entra ID users by their access tokens, when configured (ENTRA_TENANT_ID). */
  signedInUsers?: SignedInUsersConfig;
}

/** The key as SDKs send it: `api-key` (Azure clients) or `Authorization: Bearer` (OpenAI-style clients). */
export function presentedKey(request: HttpRequest): string | undefined {
  const apiKey = request.headers.get("api-key");
  if (apiKey) return apiKey.trim();
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "");
  return bearer?.[1];
}

/**
 * The caller a request proves to be, or undefined: a key first (servers, SDKs, Logic Apps), else a user
 * signed in with Entra ID (browser frontends): by the access token the app checks itself, or by the
 * principal platform authentication checked. Throws the token's problem (401 `invalid_token`, 403
 * `missing_role`) when a token was sent and fails. NOTE: `x-ms-client-principal` is read only when
 * platform authentication is on; otherwise anyone can write it, so it is ignored.
 */
export async function authenticateCaller(request: HttpRequest, rules: CallerRules): Promise<Caller | undefined> {
  const key = presentedKey(request);
  if (key) {
    const name = matchKey(key, rules.keys);
    if (name) return { id: `key:${name}`, keyName: name };
    // A wrong api-key is refused. A bearer token that is no key may be a user's access token.
    if (request.headers.has("api-key")) return undefined;
    if (rules.signedInUsers && looksLikeJwt(key)) {
      const user = await accessTokenVerifier(rules.signedInUsers).verify(key);
      return { id: `entra:${user.objectId}` };
    }
  }
  if (!rules.platformAuth) return undefined;
  const principal = decodeClientPrincipal(request.headers.get("x-ms-client-principal"));
  return principal ? { id: `entra:${principal.objectId}` } : undefined;
}

/**
 * Keys are compared as SHA-256 digests in constant time, against every configured key, so timing
 * tells nothing about which one nearly matched.
 */
function matchKey(key: string, keys: readonly CallerKeyConfig[]): string | undefined {
  // One call, not createHash().update().digest(): this runs on every request.
  const digest = hash("sha256", key, "buffer");
  let match: string | undefined;
  for (const candidate of keys) {
    if (timingSafeEqual(digest, candidate.sha256) && match === undefined) match = candidate.name;
  }
  return match;
}
