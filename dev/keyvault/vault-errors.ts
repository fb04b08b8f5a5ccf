/** Key Vault's error answers: `{"error": {"code", "message", "innererror"?}}`, the shape SecretClient parses. */
export interface VaultError {
  status: number;
  body: { error: { code: string; message: string; innererror?: { code: string } } };
}

function vaultError(status: number, code: string, message: string, inner?: string): VaultError {
  return { status, body: { error: { code, message, ...(inner ? { innererror: { code: inner } } : {}) } } };
}

export const missingToken = () => vaultError(401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.");

export const invalidToken = (reason: string) => vaultError(401, "Unauthorized", `AKV10022: Invalid token: ${reason}.`);

export const invalidIssuer = () => vaultError(401, "Unauthorized", "AKV10032: Invalid issuer.");

/** What Key Vault says when RBAC has no role assignment allowing the action. */
export const forbiddenByRbac = (principal: string, action: string) =>
  vaultError(
    403,
    "Forbidden",
    `Caller is not authorized to perform action on resource.\r\nCaller: appid=${principal}\r\nAction: 'Microsoft.KeyVault/vaults/secrets/${action}'\r\nAssignment: (not found)\r\n`,
    "ForbiddenByRbac",
  );

export const secretNotFound = (name: string) => vaultError(404, "SecretNotFound", `A secret with (name/id) ${name} was not found in this key vault.`);

export const badParameter = (message: string) => vaultError(400, "BadParameter", message);

export const notFound = (path: string) => vaultError(404, "NotFound", `No operation at ${path}.`);

export const methodNotAllowed = (method: string) => vaultError(405, "BadParameter", `Method ${method} is not supported here.`);

/**
 * The challenge: where to get a token (the tenant's authority) and for which resource. SecretClient asks its
 * credential for `{resource}/.default` in that tenant, after checking the vault's host is under the resource's.
 */
export function challengeHeader(tenantId: string, resource: string): string {
  return `Bearer authorization="https://login.microsoftonline.com/${tenantId}", resource="${resource}"`;
}
