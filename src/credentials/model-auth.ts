import type { KeyCredential, TokenCredential } from "@azure/core-auth";
import { deploymentSettingPrefix } from "../config/deployments.js";
import type { DeploymentConfig } from "../config/types.js";
import { appIdentity } from "./app-identity.js";
import { CredentialError, describeCredentialFailure, isIdentityError } from "./credential-error.js";
import { KeyVaultKey } from "./key-vault-key.js";

/** How one deployment's client authenticates, whichever of the configured ways it is. */
export interface ModelAuth {
  /** The credential the SDK client is built with; may read Key Vault the first time. Throws CredentialError. */
  credential(signal?: AbortSignal): Promise<KeyCredential | TokenCredential>;
  /** The token scope, for Entra ID; the SDK would otherwise ask for Azure ML's. */
  readonly scopes?: readonly string[];
  /** Counts the times the credential changed; read before an attempt, handed to renewAfterRefusal after it. */
  readonly generation: number;
  /**
   * The model refused the credential of `generation` (401): true when a newer one is at hand (read
   * now, or since that attempt began) and one more attempt may succeed.
   */
  renewAfterRefusal(generation: number, signal?: AbortSignal): Promise<boolean>;
  /** Values no message may contain. */
  secrets(): readonly string[];
  /** For readiness: whether the credential can be obtained now. Throws CredentialError. */
  check(signal: AbortSignal): Promise<void>;
}

export function modelAuthFor(deployment: DeploymentConfig, identityClientId: string | undefined): ModelAuth {
  const config = deployment.credential;
  switch (config.kind) {
    case "key":
      return staticKey(config.key.reveal());
    case "unavailable":
      return unavailable(`${config.setting} is an unresolved Key Vault reference; check that the secret exists and the app's identity may read it`);
    case "keyvault":
      return new KeyVaultKey(config, `${deploymentSettingPrefix(deployment.alias)}KEY_SECRET_URI`, () => appIdentity(identityClientId));
    case "entra":
      return entraToken(config.scope, () => appIdentity(identityClientId));
  }
}

function staticKey(key: string): ModelAuth {
  let credential: KeyCredential | undefined;
  return {
    generation: 0,
    // Made on first use: @azure/core-auth loads with the model SDK, not at start-up.
    credential: () => {
      if (!credential) {
        const { AzureKeyCredential } = require("@azure/core-auth") as typeof import("@azure/core-auth");
        credential = new AzureKeyCredential(key);
      }
      return Promise.resolve(credential);
    },
    renewAfterRefusal: () => Promise.resolve(false),
    secrets: () => [key],
    check: () => Promise.resolve(),
  };
}

function unavailable(reason: string): ModelAuth {
  const fail = () => Promise.reject(new CredentialError(reason));
  return { generation: 0, credential: fail, renewAfterRefusal: () => Promise.resolve(false), secrets: () => [], check: fail };
}

function entraToken(scope: string, identity: () => TokenCredential): ModelAuth {
  return {
    generation: 0,
    scopes: [scope],
    credential: () => Promise.resolve(identity()),
    // A refused token is a missing role assignment, not a stale token: the SDK's policy renews tokens.
    renewAfterRefusal: () => Promise.resolve(false),
    secrets: () => [],
    async check(signal) {
      try {
        const token = await identity().getToken(scope, { abortSignal: signal });
        if (!token) throw new Error("no token");
      } catch (error) {
        throw new CredentialError(
          isIdentityError(error) || !(error instanceof Error) ? `${describeCredentialFailure(error)} for ${scope}` : "the app's identity could not get a token",
        );
      }
    },
  };
}
