/**
 * The user App Service Authentication ("Easy Auth") signed in, from `x-ms-client-principal`: base64
 * JSON with the token's claims. The platform sets the header only when its authentication is on and
 * strips any copy a client sends; with it off the header is whatever the client wrote, so callers of
 * this function must only use it when platform authentication is on.
 */
export interface ClientPrincipal {
  /** The user's object id in Entra ID: stable, unlike names and e-mail addresses. */
  objectId: string;
  identityProvider: string;
}

interface PrincipalClaims {
  auth_typ?: unknown;
  claims?: unknown;
}

const OBJECT_ID_CLAIMS = new Set(["http://schemas.microsoft.com/identity/claims/objectidentifier", "oid"]);
/** An Entra object id is a GUID; anything else is not from the platform. */
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Far larger than any real principal, small enough that decoding cannot cost much. */
const MAX_HEADER_LENGTH = 16_384;

export function decodeClientPrincipal(header: string | null | undefined): ClientPrincipal | undefined {
  if (!header || header.length > MAX_HEADER_LENGTH) return undefined;
  let parsed: PrincipalClaims;
  try {
    parsed = JSON.parse(Buffer.from(header, "base64").toString("utf8")) as PrincipalClaims;
  } catch {
    return undefined;
  }
  if (!parsed || typeof parsed !== "object" || !Array.isArray(parsed.claims)) return undefined;
  const claim = parsed.claims.find(
    (c: unknown): c is { typ: string; val: string } =>
      typeof c === "object" && c !== null && OBJECT_ID_CLAIMS.has(String((c as { typ?: unknown }).typ)) && typeof (c as { val?: unknown }).val === "string",
  );
  if (!claim || !GUID.test(claim.val)) return undefined;
  return { objectId: claim.val.toLowerCase(), identityProvider: typeof parsed.auth_typ === "string" ? parsed.auth_typ : "aad" };
}
