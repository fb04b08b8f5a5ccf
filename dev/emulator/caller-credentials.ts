import type { IncomingHttpHeaders } from "node:http";
import { verifyDevToken } from "../identity/dev-token.js";

/** Entra tokens the emulator accepts: those of the local identity endpoint, for one audience. */
export interface EntraOptions {
  /** The local identity endpoint's signing key. */
  signingKey: string;
  /** Foundry endpoints (`*.services.ai.azure.com`) take tokens for `https://cognitiveservices.azure.com`. */
  audience: string;
}

/**
 * Azure AI endpoints take the key as `api-key` or `Authorization: Bearer`, and Entra tokens as Bearer.
 * A Bearer value that is not the key is taken for a token, so a wrong key and a bad token both end as 401.
 */
export function isAuthorized(headers: IncomingHttpHeaders, key: string, entra: EntraOptions | undefined): boolean {
  const bearer = first(headers.authorization)?.match(/^Bearer\s+(.+)$/i)?.[1];
  if (first(headers["api-key"]) === key || bearer === key) return true;
  return !!entra && bearer !== undefined && verifyDevToken(bearer, entra.signingKey, { audience: entra.audience }).ok;
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
