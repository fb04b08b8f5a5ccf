import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { sendJson } from "../emulator/http-io.js";
import {
  errorBody,
  findIdentity,
  type KnownIdentity,
  knownIdentity,
  parseTokenRequest,
  SECRET_HEADER,
  tokenBody,
  type UserAssignedIdentity,
} from "./app-service-protocol.js";
import { DEV_TENANT_ID, DEV_TOKEN_LIFETIME_SECONDS, mintDevToken, resourceOf } from "./dev-token.js";

export interface ManagedIdentityEndpointOptions {
  /** The key tokens are signed with; resources verify with the same key (verifyDevToken). */
  signingKey: string;
  /** User-assigned identities the app "has", found by client_id, object_id or mi_res_id. */
  identities: readonly UserAssignedIdentity[];
  /** The identity a request gets when it names none; without it such a request is refused, as on an app with none. */
  systemAssigned?: UserAssignedIdentity;
  /** The IDENTITY_HEADER secret; random when not given. */
  header?: string;
  tenantId?: string;
}

/** What a client asked for; never the header secret or the token. */
export interface TokenRequestRecord {
  time: string;
  resource: string | null;
  clientId: string | null;
  objectId: string | null;
  resourceId: string | null;
  status: number;
}

const TOKEN_PATH = "/msi/token";

/**
 * A local managed identity endpoint speaking the App Service protocol, so the real `ManagedIdentityCredential`
 * gets tokens from it when IDENTITY_ENDPOINT and IDENTITY_HEADER point here.
 */
export class ManagedIdentityEndpoint {
  readonly header: string;
  readonly tenantId: string;
  readonly #server: Server;
  readonly #signingKey: string;
  readonly #identities: readonly KnownIdentity[];
  readonly #system: KnownIdentity | undefined;
  #log: TokenRequestRecord[] = [];
  #failure: { status: number; message: string } | undefined;
  #url = "";

  constructor(options: ManagedIdentityEndpointOptions) {
    this.header = options.header ?? randomBytes(24).toString("hex");
    this.tenantId = options.tenantId ?? DEV_TENANT_ID;
    this.#signingKey = options.signingKey;
    this.#identities = options.identities.map(knownIdentity);
    this.#system = options.systemAssigned && knownIdentity(options.systemAssigned);
    this.#server = createServer((req, res) => this.#handle(req, res));
  }

  /** Listens and answers the URL for IDENTITY_ENDPOINT, path included. */
  async listen(port = 0, host = "127.0.0.1"): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(port, host, () => resolve());
    });
    const address = this.#server.address() as AddressInfo;
    this.#url = `http://${host.includes(":") ? `[${host}]` : host}:${address.port}${TOKEN_PATH}`;
    return this.#url;
  }

  /** The environment a client process needs to use this endpoint as its managed identity. */
  env(): { IDENTITY_ENDPOINT: string; IDENTITY_HEADER: string } {
    return { IDENTITY_ENDPOINT: this.#url, IDENTITY_HEADER: this.header };
  }

  requests(): readonly TokenRequestRecord[] {
    return this.#log;
  }

  clearLog(): void {
    this.#log = [];
  }

  /**
   * Makes every token request fail with `status` until recover(). Note the client retries 5xx answers
   * (with back-off, several seconds in all) and 404/410 even longer; a 4xx such as 403 fails at once.
   */
  fail(status = 500, message = "Failed to acquire a token: the token service is unavailable."): void {
    this.#failure = { status, message };
  }

  recover(): void {
    this.#failure = undefined;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://identity");
    if (url.pathname !== TOKEN_PATH) return sendJson(res, 404, errorBody(404, "Not found."));
    const record: TokenRequestRecord = {
      time: new Date().toISOString(),
      resource: url.searchParams.get("resource"),
      clientId: url.searchParams.get("client_id"),
      objectId: url.searchParams.get("object_id"),
      resourceId: url.searchParams.get("mi_res_id"),
      status: 0,
    };
    this.#log.push(record);
    const answer = (status: number, body: unknown) => {
      record.status = status;
      sendJson(res, status, body);
    };

    if (req.method !== "GET") return answer(405, errorBody(405, `Method ${req.method} is not allowed.`));
    if (!this.#headerMatches(req.headers[SECRET_HEADER])) {
      return answer(401, errorBody(401, "The X-IDENTITY-HEADER header is missing or does not match."));
    }
    if (this.#failure) return answer(this.#failure.status, errorBody(this.#failure.status, this.#failure.message));
    const request = parseTokenRequest(url.searchParams);
    if (!request.ok) return answer(request.status, errorBody(request.status, request.message));
    const identity = findIdentity(this.#identities, this.#system, request.selector);
    // App Service's own words for an identity the app does not have.
    if (!identity) return answer(400, errorBody(400, "Unable to load the proper Managed Identity."));

    const resource = resourceOf(request.resource);
    const now = Date.now();
    const token = mintDevToken(
      { audience: resource, tenantId: this.tenantId, clientId: identity.clientId, objectId: identity.objectId },
      this.#signingKey,
      now,
    );
    answer(200, tokenBody(token, Math.floor(now / 1000) + DEV_TOKEN_LIFETIME_SECONDS, resource, identity.clientId));
  }

  #headerMatches(value: string | string[] | undefined): boolean {
    if (typeof value !== "string") return false;
    const given = Buffer.from(value);
    const wanted = Buffer.from(this.header);
    return given.length === wanted.length && timingSafeEqual(given, wanted);
  }
}
