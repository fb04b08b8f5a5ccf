import { createHash, randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK, generateKeyPair, type JWK, type KeyLike, SignJWT } from "jose";
import { readBody } from "../emulator/http-io.js";
import { createVaultCertificate } from "../keyvault/vault-certificate.js";

/** The local tenant, and the two app registrations a frontend needs: the page (a SPA) and the API it calls. */
export const LOCAL_TENANT_ID = "8f1c1a2b-0000-4000-8000-00000000d0c0";
export const LOCAL_API_CLIENT_ID = "5e6f7a8b-0000-4000-8000-0000000000a1";
export const LOCAL_SPA_CLIENT_ID = "5e6f7a8b-0000-4000-8000-0000000000b2";
/** The app role that grants chat, as the Bicep's app registration defines it. */
export const CHAT_ROLE = "Chat.Use";
/** A user of this name signs in without the role: what a user not assigned to the app sees (a 403). */
export const USER_WITHOUT_ROLE = "no-role";

export interface LocalIssuerOptions {
  /** Redirect URIs the page may use (exact match, as in an app registration's SPA platform). */
  redirectUris: readonly string[];
  port?: number;
  /** Where the CA certificate is written; a new temporary directory (removed on close) when not given. */
  dir?: string;
  /** Lifetime of access and ID tokens; Entra ID's default is about an hour. */
  tokenLifetimeSeconds?: number;
}

export interface StartedIssuer {
  /** The authority (and `iss`): `https://localhost:<port>/<tenant>/v2.0`. */
  authority: string;
  /** The base for MSAL's `authority` (`https://localhost:<port>/<tenant>`) and its `knownAuthorities` host. */
  msalAuthority: string;
  host: string;
  /** The CA certificate that signed the issuer's: the app trusts it through NODE_EXTRA_CA_CERTS. */
  caFile: string;
}

interface PendingCode {
  clientId: string;
  redirectUri: string;
  challenge: string;
  nonce: string | undefined;
  scope: string;
  user: string;
  expiresAt: number;
}

/**
 * A local OpenID Connect issuer in Microsoft Entra ID's shape, so a page's real sign-in code (MSAL.js, the
 * authorization code flow with PKCE) runs against it unchanged but for the authority: the same paths below
 * `/<tenant>` (`v2.0/.well-known/openid-configuration`, `oauth2/v2.0/authorize`, `oauth2/v2.0/token`,
 * `discovery/v2.0/keys`), RS256 tokens with the claims the app checks (`iss`, `aud`, `tid`, `oid`, `roles`),
 * and CORS on the token endpoint for the page's origin. Its sign-in page asks for a user name only: anyone
 * may sign in, with the chat role unless the name is `no-role`. HTTPS with a throwaway CA, since MSAL.js
 * takes only an https authority. NOTE: no consent, no MFA, no refresh-token rotation, no logout state.
 */
export class LocalIssuer {
  readonly #options: LocalIssuerOptions;
  readonly #codes = new Map<string, PendingCode>();
  readonly #refreshTokens = new Map<string, { clientId: string; scope: string; user: string }>();
  #server: Server | undefined;
  #dir: string | undefined;
  #ownsDir = false;
  #keys: { privateKey: KeyLike; jwk: JWK } | undefined;
  #base = "";

  constructor(options: LocalIssuerOptions) {
    this.#options = options;
  }

  async start(): Promise<StartedIssuer> {
    this.#ownsDir = !this.#options.dir;
    this.#dir = this.#options.dir ?? (await mkdtemp(join(tmpdir(), "local-issuer-")));
    const certificate = await createVaultCertificate(["localhost", "127.0.0.1"], this.#dir);
    const pair = await generateKeyPair("RS256");
    this.#keys = { privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), kid: randomUUID(), alg: "RS256", use: "sig" } };
    const server = createServer({ key: certificate.key, cert: certificate.cert }, (req, res) => {
      this.#handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" }).end('{"error":"server_error"}');
        else res.destroy();
      });
    });
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.#options.port ?? 0, "127.0.0.1", () => resolve());
    });
    const host = `localhost:${(server.address() as AddressInfo).port}`;
    this.#base = `https://${host}`;
    return { authority: this.#authority, msalAuthority: `${this.#base}/${LOCAL_TENANT_ID}`, host, caFile: certificate.caFile };
  }

  async close(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
    if (this.#ownsDir && this.#dir) await rm(this.#dir, { recursive: true, force: true });
  }

  get #authority(): string {
    return `${this.#base}/${LOCAL_TENANT_ID}/v2.0`;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.#base);
    const prefix = `/${LOCAL_TENANT_ID}`;
    if (!url.pathname.startsWith(`${prefix}/`)) return json(res, 404, { error: "invalid_tenant" });
    const path = url.pathname.slice(prefix.length);
    switch (`${req.method} ${path}`) {
      case "GET /v2.0/.well-known/openid-configuration":
        return json(res, 200, this.#discovery(), cors(req));
      case "GET /discovery/v2.0/keys":
        return json(res, 200, { keys: [this.#keys?.jwk] }, cors(req));
      case "GET /oauth2/v2.0/authorize":
        return this.#signInPage(res, url.searchParams);
      case "POST /oauth2/v2.0/authorize":
        return this.#signIn(res, new URLSearchParams((await readBody(req)) ?? ""));
      case "OPTIONS /oauth2/v2.0/token":
        res.writeHead(204, {
          ...cors(req),
          "access-control-allow-methods": "POST",
          "access-control-allow-headers": "content-type",
          "access-control-max-age": "600",
        });
        res.end();
        return;
      case "POST /oauth2/v2.0/token":
        return this.#token(req, res, new URLSearchParams((await readBody(req)) ?? ""));
      case "GET /oauth2/v2.0/logout": {
        const back = url.searchParams.get("post_logout_redirect_uri");
        if (back && this.#options.redirectUris.some((uri) => new URL(uri).origin === new URL(back).origin)) {
          res.writeHead(302, { location: back }).end();
          return;
        }
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end("<!doctype html><title>Signed out</title><p>Signed out.</p>");
        return;
      }
      default:
        return json(res, 404, { error: "not_found" });
    }
  }

  #discovery() {
    const base = `${this.#base}/${LOCAL_TENANT_ID}`;
    return {
      issuer: this.#authority,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      token_endpoint: `${base}/oauth2/v2.0/token`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_types_supported: ["code"],
      response_modes_supported: ["query", "fragment", "form_post"],
      subject_types_supported: ["pairwise"],
      id_token_signing_alg_values_supported: ["RS256"],
      code_challenge_methods_supported: ["S256"],
      token_endpoint_auth_methods_supported: ["none"],
      scopes_supported: ["openid", "profile", "email", "offline_access"],
      claims_supported: ["sub", "iss", "aud", "exp", "iat", "nbf", "name", "preferred_username", "oid", "tid", "roles", "nonce"],
      tenant_region_scope: "EU",
    };
  }

  /** The authorization request is checked before anything is shown: a bad one never gets a sign-in page. */
  #checkAuthorization(params: URLSearchParams): string | undefined {
    if (params.get("client_id") !== LOCAL_SPA_CLIENT_ID) return "unauthorized_client: unknown client_id";
    if (!this.#options.redirectUris.includes(params.get("redirect_uri") ?? "")) return "invalid_request: redirect_uri is not registered";
    if (params.get("response_type") !== "code") return "unsupported_response_type: only code";
    if (params.get("code_challenge_method") !== "S256" || !params.get("code_challenge")) return "invalid_request: PKCE with S256 is required";
    return undefined;
  }

  #signInPage(res: ServerResponse, params: URLSearchParams): void {
    const problem = this.#checkAuthorization(params);
    if (problem) return html(res, 400, `<h1>Sign-in request refused</h1><p>${escapeHtml(problem)}</p>`);
    const hidden = [...params].map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`).join("");
    html(
      res,
      200,
      `<main><h1>Sign in</h1><p>Local development sign-in: any user name signs in (<code>${USER_WITHOUT_ROLE}</code> gets no chat role).</p>
<form method="post">${hidden}<label for="username">User name</label> <input id="username" name="username" autocomplete="username" required autofocus>
<button type="submit">Sign in</button></form></main>`,
    );
  }

  #signIn(res: ServerResponse, form: URLSearchParams): void {
    const problem = this.#checkAuthorization(form);
    if (problem) return html(res, 400, `<h1>Sign-in request refused</h1><p>${escapeHtml(problem)}</p>`);
    const user = (form.get("username") ?? "").trim();
    if (!/^[\w.@-]{1,64}$/.test(user)) return html(res, 400, "<h1>Sign in</h1><p>A user name is letters, digits and . _ @ -, at most 64.</p>");
    const code = randomBytes(32).toString("base64url");
    this.#codes.set(code, {
      clientId: form.get("client_id") ?? "",
      redirectUri: form.get("redirect_uri") ?? "",
      challenge: form.get("code_challenge") ?? "",
      nonce: form.get("nonce") ?? undefined,
      scope: form.get("scope") ?? "openid",
      user,
      expiresAt: Date.now() + 60_000,
    });
    const back = new URLSearchParams({ code, ...(form.get("state") ? { state: form.get("state") as string } : {}), client_info: clientInfo(user) });
    const redirect = form.get("redirect_uri") as string;
    const location = form.get("response_mode") === "query" ? `${redirect}?${back}` : `${redirect}#${back}`;
    res.writeHead(302, { location }).end();
  }

  async #token(req: IncomingMessage, res: ServerResponse, form: URLSearchParams): Promise<void> {
    const headers = cors(req);
    const clientId = form.get("client_id") ?? "";
    if (clientId !== LOCAL_SPA_CLIENT_ID) return json(res, 400, { error: "unauthorized_client" }, headers);
    let grant: { scope: string; user: string; nonce?: string | undefined };
    if (form.get("grant_type") === "authorization_code") {
      const code = this.#codes.get(form.get("code") ?? "");
      this.#codes.delete(form.get("code") ?? "");
      if (!code || code.expiresAt < Date.now() || code.clientId !== clientId)
        return json(res, 400, { error: "invalid_grant", error_description: "code" }, headers);
      if (code.redirectUri !== form.get("redirect_uri")) return json(res, 400, { error: "invalid_grant", error_description: "redirect_uri" }, headers);
      const verifier = form.get("code_verifier") ?? "";
      if (createHash("sha256").update(verifier).digest("base64url") !== code.challenge) {
        return json(res, 400, { error: "invalid_grant", error_description: "PKCE verification failed" }, headers);
      }
      grant = code;
    } else if (form.get("grant_type") === "refresh_token") {
      const refresh = this.#refreshTokens.get(form.get("refresh_token") ?? "");
      if (!refresh || refresh.clientId !== clientId) return json(res, 400, { error: "invalid_grant" }, headers);
      grant = { scope: form.get("scope") ?? refresh.scope, user: refresh.user };
    } else {
      return json(res, 400, { error: "unsupported_grant_type" }, headers);
    }
    const refreshToken = randomBytes(32).toString("base64url");
    this.#refreshTokens.set(refreshToken, { clientId, scope: grant.scope, user: grant.user });
    const lifetime = this.#options.tokenLifetimeSeconds ?? 3600;
    json(
      res,
      200,
      {
        token_type: "Bearer",
        scope: apiScopes(grant.scope).join(" ") || grant.scope,
        expires_in: lifetime,
        ext_expires_in: lifetime,
        access_token: await this.#accessToken(grant.user, grant.scope, lifetime),
        id_token: await this.#idToken(grant.user, grant.nonce, lifetime),
        refresh_token: refreshToken,
        client_info: clientInfo(grant.user),
      },
      { ...headers, "cache-control": "no-store" },
    );
  }

  #accessToken(user: string, scope: string, lifetime: number): Promise<string> {
    const scp = apiScopes(scope)
      .map((s) => s.split("/").at(-1))
      .join(" ");
    return this.#sign(
      {
        ...userClaims(user),
        azp: LOCAL_SPA_CLIENT_ID,
        ...(scp ? { scp } : {}),
        roles: user === USER_WITHOUT_ROLE ? [] : [CHAT_ROLE],
        ver: "2.0",
      },
      LOCAL_API_CLIENT_ID,
      lifetime,
    );
  }

  #idToken(user: string, nonce: string | undefined, lifetime: number): Promise<string> {
    return this.#sign({ ...userClaims(user), ...(nonce ? { nonce } : {}), ver: "2.0" }, LOCAL_SPA_CLIENT_ID, lifetime);
  }

  #sign(claims: Record<string, unknown>, audience: string, lifetime: number): Promise<string> {
    const keys = this.#keys as { privateKey: KeyLike; jwk: JWK };
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: "RS256", kid: keys.jwk.kid as string, typ: "JWT" })
      .setIssuer(this.#authority)
      .setAudience(audience)
      .setSubject(claims.oid as string)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + lifetime)
      .sign(keys.privateKey);
  }
}

/** A stable object id per user name (a GUID from its hash): the same user is the same caller every time. */
export function objectIdOf(user: string): string {
  const hex = createHash("sha256").update(`local-user:${user}`).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function userClaims(user: string) {
  return { tid: LOCAL_TENANT_ID, oid: objectIdOf(user), name: user, preferred_username: `${user}@local.test` };
}

/** MSAL's `client_info`: the user's object id and tenant, base64url JSON. */
function clientInfo(user: string): string {
  return Buffer.from(JSON.stringify({ uid: objectIdOf(user), utid: LOCAL_TENANT_ID })).toString("base64url");
}

/** The scopes of the API among those requested (`api://<id>/Chat` or `<id>/Chat`). */
function apiScopes(scope: string): string[] {
  return scope.split(" ").filter((s) => s.startsWith(`api://${LOCAL_API_CLIENT_ID}/`) || s.startsWith(`${LOCAL_API_CLIENT_ID}/`));
}

function cors(req: IncomingMessage): Record<string, string> {
  const origin = req.headers.origin;
  return typeof origin === "string" ? { "access-control-allow-origin": origin, vary: "Origin" } : {};
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
}

function html(res: ServerResponse, status: number, body: string): void {
  res
    .writeHead(status, {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http://localhost:*",
    })
    .end(`<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>Sign in</title>${body}</html>`);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
