import type { SettingsReader } from "./settings-reader.js";
import type { SignedInUsersConfig } from "./types.js";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ROLE = /^[A-Za-z0-9._-]{1,120}$/;

/**
 * Users signed in with Microsoft Entra ID, calling with an access token for this app's API (browser
 * frontends; no key in the page). The app checks the token itself (signature from the tenant's published
 * keys, issuer, audience, expiry, tenant, app role), so the local stack, with its OpenID Connect issuer,
 * and Azure behave the same; App Service Authentication is not needed for it. Off unless ENTRA_TENANT_ID is set.
 *
 * - ENTRA_TENANT_ID: the tenant whose users may call (a GUID).
 * - ENTRA_API_AUDIENCE: the token audiences accepted, comma-separated: the API's application (client) id,
 *   which Entra ID puts in v2.0 access tokens, and its Application ID URI (`api://...`).
 * - ENTRA_CHAT_ROLE: the app role a user needs (default `Chat.Use`); a token without it is a 403.
 * - ENTRA_AUTHORITY: the issuer's base URL (default `https://login.microsoftonline.com/<tenant>/v2.0`): its
 *   `/.well-known/openid-configuration` names the keys, and tokens must carry it as `iss`. Locally, the
 *   dev issuer's URL. Only `https` (or `http` to localhost).
 */
export function readSignedInUsers(settings: SettingsReader): SignedInUsersConfig | undefined {
  const tenantId = settings.string("ENTRA_TENANT_ID", { required: false });
  if (tenantId === undefined) return undefined;
  if (!GUID.test(tenantId)) return settings.problem("ENTRA_TENANT_ID must be the tenant's id (a GUID)");
  const audiences = settings.list("ENTRA_API_AUDIENCE", { required: true });
  if (audiences.length === 0) return settings.problem("ENTRA_API_AUDIENCE names no audience");
  const role = settings.string("ENTRA_CHAT_ROLE", { required: false }) ?? "Chat.Use";
  if (!ROLE.test(role)) settings.problem("ENTRA_CHAT_ROLE must be an app role's value (letters, digits, . _ -)");
  const authority = (settings.string("ENTRA_AUTHORITY", { required: false }) ?? `https://login.microsoftonline.com/${tenantId}/v2.0`).replace(/\/+$/, "");
  let url: URL;
  try {
    url = new URL(authority);
  } catch {
    return settings.problem("ENTRA_AUTHORITY must be a URL");
  }
  const local = url.hostname === "localhost" || url.hostname === "127.0.0.1";
  if (url.protocol !== "https:" && !(url.protocol === "http:" && local)) return settings.problem("ENTRA_AUTHORITY must use https");
  return { tenantId: tenantId.toLowerCase(), audiences, role, authority };
}
