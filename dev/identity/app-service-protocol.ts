import { createHash, randomUUID } from "node:crypto";

/**
 * The App Service managed identity protocol (api-version 2019-08-01), as MSAL Node sends it for
 * `ManagedIdentityCredential` when IDENTITY_ENDPOINT and IDENTITY_HEADER are set:
 * `GET {IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=...[&client_id=|&object_id=|&mi_res_id=]`
 * with the header `X-IDENTITY-HEADER: {IDENTITY_HEADER}`.
 */
export const APP_SERVICE_API_VERSION = "2019-08-01";
export const SECRET_HEADER = "x-identity-header";

export interface UserAssignedIdentity {
  clientId: string;
  /** Defaults to an id derived from the client id (see objectIdFor). */
  objectId?: string;
  /** The ARM id, for `mi_res_id` requests. */
  resourceId?: string;
}

export interface KnownIdentity {
  clientId: string;
  objectId: string;
  resourceId: string | undefined;
}

/** Which identity a request names; `system` when it names none. */
export type IdentitySelector = { by: "client_id" | "object_id" | "mi_res_id"; value: string } | { by: "system" };

export type ParsedTokenRequest = { ok: true; resource: string; selector: IdentitySelector } | { ok: false; status: number; message: string };

const SELECTORS = ["client_id", "object_id", "mi_res_id"] as const;

export function parseTokenRequest(query: URLSearchParams): ParsedTokenRequest {
  const version = query.get("api-version");
  if (version === null) return { ok: false, status: 400, message: "Required query parameter api-version is missing." };
  if (version !== APP_SERVICE_API_VERSION) return { ok: false, status: 400, message: `api-version ${version} is not supported.` };
  const resource = query.get("resource");
  if (!resource) return { ok: false, status: 400, message: "Required query parameter resource is missing." };
  const named = SELECTORS.filter((name) => query.get(name));
  if (named.length > 1) return { ok: false, status: 400, message: "Only one of client_id, object_id and mi_res_id may be given." };
  const by = named[0];
  return { ok: true, resource, selector: by ? { by, value: query.get(by) as string } : { by: "system" } };
}

/** Ids are GUIDs and ARM ids, both case-insensitive in Azure. */
export function findIdentity(known: readonly KnownIdentity[], system: KnownIdentity | undefined, selector: IdentitySelector) {
  if (selector.by === "system") return system;
  const wanted = selector.value.toLowerCase();
  const field = { client_id: "clientId", object_id: "objectId", mi_res_id: "resourceId" } as const;
  return known.find((identity) => identity[field[selector.by]]?.toLowerCase() === wanted);
}

export function knownIdentity(identity: UserAssignedIdentity): KnownIdentity {
  return { clientId: identity.clientId, objectId: identity.objectId ?? objectIdFor(identity.clientId), resourceId: identity.resourceId };
}

/**
 * In Entra the object id of an identity's service principal is unrelated to its client id; a stable id
 * derived from the client id keeps tokens (and logs) distinguishable without asking tests to invent one.
 */
export function objectIdFor(clientId: string): string {
  const hex = createHash("sha256").update(`object-id:${clientId.toLowerCase()}`).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The success body: `expires_on` in epoch seconds as a string, as App Service sends it. */
export function tokenBody(accessToken: string, expiresOn: number, resource: string, clientId: string) {
  return { access_token: accessToken, expires_on: String(expiresOn), resource, token_type: "Bearer", client_id: clientId };
}

/** App Service's error body, e.g. `{"statusCode":400,"message":"Unable to load the proper Managed Identity.",...}`. */
export function errorBody(status: number, message: string) {
  return { statusCode: status, message, correlationId: randomUUID() };
}
