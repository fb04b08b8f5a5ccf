/**
 * The app could not obtain its credentials for a model: an unresolved Key Vault reference, a vault
 * that refused, an identity without a token. The message names the setting and the reason, never a
 * secret or a URL, so it can appear in readiness answers and logs.
 */
export class CredentialError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CredentialError";
  }
}

export function isCredentialError(error: unknown): error is CredentialError {
  return error instanceof CredentialError;
}

/** Errors @azure/identity throws when no token can be had; they may name endpoints, so only the kind is kept. */
const IDENTITY_ERRORS = new Set(["CredentialUnavailableError", "AuthenticationError", "AggregateAuthenticationError", "AuthenticationRequiredError"]);

export function isIdentityError(error: unknown): boolean {
  return error instanceof Error && IDENTITY_ERRORS.has(error.name);
}

/** Why reaching Key Vault or the identity failed, in words safe to show. */
export function describeCredentialFailure(error: unknown): string {
  if (isIdentityError(error)) return "the app's identity could not get a token";
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  if (status === 401 || status === 403) return `Key Vault denied access (${status})`;
  if (status === 404) return "the secret does not exist in Key Vault (404)";
  if (typeof status === "number") return `Key Vault answered ${status}`;
  if ((error as { name?: unknown } | null)?.name === "AbortError") return "no answer in time";
  return "Key Vault could not be reached";
}
