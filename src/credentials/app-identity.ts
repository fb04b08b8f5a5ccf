import type { TokenCredential } from "@azure/core-auth";

const credentials = new Map<string, TokenCredential>();

/**
 * The app's own identity, one per process (the credential caches its tokens). With a client id it is
 * that user-assigned managed identity, asked directly (App Service's IDENTITY_ENDPOINT in Azure);
 * without one, DefaultAzureCredential tries what a developer's machine has (Azure CLI, azd, ...).
 */
export function appIdentity(clientId: string | undefined): TokenCredential {
  const cacheKey = clientId ?? "";
  let credential = credentials.get(cacheKey);
  if (!credential) {
    // NOTE: require, not import(): loaded on first use so start-up does not pay for it, and as
    // CommonJS like the rest of the app.
    const identity = require("@azure/identity") as typeof import("@azure/identity");
    credential = clientId ? new identity.ManagedIdentityCredential({ clientId }) : new identity.DefaultAzureCredential();
    credentials.set(cacheKey, credential);
  }
  return credential;
}
