import { mkdtemp, rm } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readBody, sendJson } from "../emulator/http-io.js";
import { DEV_TENANT_ID, type DevTokenClaims, verifyDevToken } from "../identity/dev-token.js";
import { SECRET_NAME, SecretStore, toBundle } from "./secret-store.js";
import { createVaultCertificate } from "./vault-certificate.js";
import * as errors from "./vault-errors.js";
import { VaultTunnel } from "./vault-tunnel.js";

/** Key Vault's built-in roles for secrets: Secrets User reads, Secrets Officer also sets. */
export type VaultRole = "secrets-user" | "secrets-officer";

export interface LocalKeyVaultOptions {
  /** The key the identity endpoint signs tokens with. */
  signingKey: string;
  /** The tenant tokens must come from; the identity endpoint's default when not given. */
  tenantId?: string;
  /** The vault's name: its URL is `https://{name}.vault.localhost:{port}`. */
  name?: string;
  /** Principals (client ids, the tokens' `appid`) and their roles. */
  roles?: Readonly<Record<string, VaultRole>>;
  /** Secrets present at start. */
  secrets?: Readonly<Record<string, string>>;
  /** Where the CA certificate is written; a new temporary directory (removed on close) when not given. */
  dir?: string;
}

export interface StartedVault {
  /** The vault URL for SecretClient. */
  url: string;
  /** The resource its challenge names; tokens must be for this audience. */
  resource: string;
  caFile: string;
  /**
   * The server certificate (also valid for `localhost` and `127.0.0.1`) and its key, for other local
   * peers that must speak HTTPS to a process trusting only this CA (see dev/stack/tls-front.ts).
   */
  certificate: { key: string; cert: string };
  /** The tunnel to the vault (see VaultTunnel). */
  proxyUrl: string;
  /** What a client process needs to reach and trust the vault; both are read at process start. */
  env: { NODE_EXTRA_CA_CERTS: string; HTTPS_PROXY: string; NO_PROXY: string };
}

/** What the vault was asked; never a secret value or a token. */
export interface VaultRequestRecord {
  time: string;
  method: string;
  path: string;
  status: number;
  principal: string | null;
  code: string | null;
}

/** Like Key Vault's `https://vault.azure.net`, the resource every vault under it shares. */
export const VAULT_RESOURCE = "https://vault.localhost";

/**
 * A local Key Vault (secrets) over HTTPS that the real `SecretClient` talks to unchanged: challenge-based
 * auth, tokens of the local identity endpoint checked for signature, lifetime, audience and tenant, RBAC
 * by role per principal, versions, and Key Vault's error shapes.
 */
export class LocalKeyVault {
  readonly #options: LocalKeyVaultOptions;
  readonly #tenantId: string;
  readonly #name: string;
  readonly #store = new SecretStore();
  readonly #roles: Map<string, VaultRole>;
  #log: VaultRequestRecord[] = [];
  #server: Server | undefined;
  #tunnel: VaultTunnel | undefined;
  #tempDir: string | undefined;
  #url = "";

  constructor(options: LocalKeyVaultOptions) {
    this.#options = options;
    this.#tenantId = options.tenantId ?? DEV_TENANT_ID;
    this.#name = options.name ?? "local";
    this.#roles = new Map(Object.entries(options.roles ?? {}).map(([principal, role]) => [principal.toLowerCase(), role]));
    for (const [name, value] of Object.entries(options.secrets ?? {})) this.#store.set(name, value);
  }

  async start(): Promise<StartedVault> {
    const hostName = `${this.#name}.vault.localhost`;
    if (!this.#options.dir) this.#tempDir = await mkdtemp(join(tmpdir(), "local-key-vault-"));
    const dir = this.#options.dir ?? (this.#tempDir as string);
    const certificate = await createVaultCertificate([hostName, "localhost", "127.0.0.1"], dir);
    const server = createServer({ key: certificate.key, cert: certificate.cert }, (req, res) => {
      this.#handle(req, res).catch(() => {
        if (!res.headersSent) sendJson(res, 500, { error: { code: "InternalServerError", message: "Local vault failure." } });
        else res.destroy();
      });
    });
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    this.#url = `https://${hostName}:${port}`;
    this.#tunnel = new VaultTunnel(hostName, port, { host: "127.0.0.1", port });
    const proxyUrl = await this.#tunnel.listen();
    return {
      url: this.#url,
      resource: VAULT_RESOURCE,
      caFile: certificate.caFile,
      certificate: { key: certificate.key, cert: certificate.cert },
      proxyUrl,
      // Loopback stays direct: the identity endpoint, the emulator and Azurite must not go through the tunnel.
      env: { NODE_EXTRA_CA_CERTS: certificate.caFile, HTTPS_PROXY: proxyUrl, NO_PROXY: "127.0.0.1,localhost,[::1]" },
    };
  }

  /** Adds a version (a rotation); readers get it from their next unversioned read. */
  setSecret(name: string, value: string): { version: string } {
    return { version: this.#store.set(name, value).version };
  }

  allow(principal: string, role: VaultRole = "secrets-user"): void {
    this.#roles.set(principal.toLowerCase(), role);
  }

  /** Removes the principal's role assignment: its next request is a 403. */
  deny(principal: string): void {
    this.#roles.delete(principal.toLowerCase());
  }

  requests(): readonly VaultRequestRecord[] {
    return this.#log;
  }

  clearLog(): void {
    this.#log = [];
  }

  async close(): Promise<void> {
    await this.#tunnel?.close();
    const server = this.#server;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    if (this.#tempDir) await rm(this.#tempDir, { recursive: true, force: true });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.#url);
    const record: VaultRequestRecord = {
      time: new Date().toISOString(),
      method: req.method ?? "GET",
      path: url.pathname,
      status: 0,
      principal: null,
      code: null,
    };
    this.#log.push(record);
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      record.code = (body as errors.VaultError["body"]).error?.code ?? null;
      sendJson(res, status, body, headers);
    };
    const fail = (error: errors.VaultError) => {
      // Every 401 carries the challenge, as Key Vault's do, so a client can always find where to get a token.
      const headers = error.status === 401 ? { "www-authenticate": errors.challengeHeader(this.#tenantId, VAULT_RESOURCE) } : undefined;
      answer(error.status, error.body, headers);
    };

    const claims = this.#authenticate(req.headers.authorization);
    if ("status" in claims) return fail(claims);
    record.principal = claims.appid;
    if (!url.searchParams.get("api-version")) return fail(errors.badParameter("The api-version query parameter is required."));

    const [collection, name, version, ...rest] = url.pathname.split("/").filter((part) => part !== "");
    if (collection !== "secrets" || name === undefined || rest.length > 0) return fail(errors.notFound(url.pathname));
    if (!SECRET_NAME.test(name)) return fail(errors.badParameter(`Invalid secret name ${name}.`));
    const action = req.method === "GET" ? "getSecret" : req.method === "PUT" && version === undefined ? "setSecret" : undefined;
    if (!action) return fail(errors.methodNotAllowed(req.method ?? ""));
    if (!this.#permits(claims.appid, action)) return fail(errors.forbiddenByRbac(claims.appid, `${action}/action`));

    if (action === "getSecret") {
      const entry = this.#store.get(name, version);
      return entry ? answer(200, toBundle(this.#url, entry)) : fail(errors.secretNotFound(version ? `${name}/${version}` : name));
    }
    const body = parseObject(await readBody(req));
    if (typeof body?.value !== "string") return fail(errors.badParameter("Property value is required and must be a string."));
    const extra = {
      ...(typeof body.contentType === "string" ? { contentType: body.contentType } : {}),
      ...(isStringRecord(body.tags) ? { tags: body.tags } : {}),
    };
    answer(200, toBundle(this.#url, this.#store.set(name, body.value, extra)));
  }

  #authenticate(authorization: string | undefined): DevTokenClaims | errors.VaultError {
    const token = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (!token) return errors.missingToken();
    const verified = verifyDevToken(token, this.#options.signingKey, { audience: VAULT_RESOURCE });
    if (!verified.ok) return errors.invalidToken(verified.reason);
    if (verified.claims.tid !== this.#tenantId) return errors.invalidIssuer();
    return verified.claims;
  }

  #permits(principal: string, action: "getSecret" | "setSecret"): boolean {
    const role = this.#roles.get(principal.toLowerCase());
    return role === "secrets-officer" || (role === "secrets-user" && action === "getSecret");
  }
}

function parseObject(text: string | undefined): Record<string, unknown> | undefined {
  try {
    const value: unknown = text === undefined ? undefined : JSON.parse(text);
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return !!value && typeof value === "object" && Object.values(value).every((v) => typeof v === "string");
}
