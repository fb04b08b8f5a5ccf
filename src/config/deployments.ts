import { isPlainLocal } from "./loopback.js";
import { Secret } from "./secret.js";
import type { SettingsReader } from "./settings-reader.js";
import type { DeploymentConfig, ModelCredentialConfig } from "./types.js";

/**
 * The Model Inference API's GA version (Microsoft's "API version updates": 2025-04-01 is generally
 * available and replaces 2024-05-01-preview, deprecated in April 2025 and retired in April 2026).
 */
export const DEFAULT_API_VERSION = "2025-04-01";
const ALIAS = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const API_VERSION = /^\d{4}-\d{2}-\d{2}(-preview)?$/;

/** `mistral-large` -> `MODEL_MISTRAL_LARGE_`: app setting names allow only letters, digits and `_`. */
export function deploymentSettingPrefix(alias: string): string {
  return `MODEL_${alias.toUpperCase().replace(/-/g, "_")}_`;
}

export function readDeployments(settings: SettingsReader): DeploymentConfig[] {
  const aliases = settings.list("MODEL_DEPLOYMENTS", { required: true });
  const seen = new Set<string>();
  const deployments: DeploymentConfig[] = [];
  for (const alias of aliases) {
    if (!ALIAS.test(alias) || alias.length > 40) {
      settings.problem(`MODEL_DEPLOYMENTS: "${alias}" is not a valid alias (lowercase letters, digits and single hyphens, at most 40 characters)`);
      continue;
    }
    if (seen.has(alias)) {
      settings.problem(`MODEL_DEPLOYMENTS lists "${alias}" more than once`);
      continue;
    }
    seen.add(alias);
    const deployment = readDeployment(settings, alias);
    if (deployment) deployments.push(deployment);
  }
  return deployments;
}

function readDeployment(settings: SettingsReader, alias: string): DeploymentConfig | undefined {
  const prefix = deploymentSettingPrefix(alias);
  const endpoint = readEndpoint(settings, `${prefix}ENDPOINT`);
  const model = settings.string(`${prefix}MODEL`, { required: true });
  const api = settings.oneOf(`${prefix}API`, ["model-inference", "openai-v1"] as const, "model-inference");
  const apiVersion = settings.string(`${prefix}API_VERSION`, { required: false }) ?? DEFAULT_API_VERSION;
  if (!API_VERSION.test(apiVersion)) {
    settings.problem(`${prefix}API_VERSION must look like 2025-04-01 or 2024-05-01-preview`);
  }
  // The v1 API's routes are below `/openai/v1`; any other base would send every call to a wrong path.
  if (api === "openai-v1" && endpoint !== undefined && !/\/openai\/v1$/.test(new URL(endpoint).pathname)) {
    settings.problem(`${prefix}ENDPOINT must end in /openai/v1 with ${prefix}API=openai-v1 (https://<resource>.services.ai.azure.com/openai/v1)`);
  }
  const credential = readCredential(settings, prefix);
  if (endpoint === undefined || model === undefined || credential === undefined) return undefined;
  return { alias, endpoint, model, api, apiVersion, credential };
}

/** Entra ID tokens for Azure AI Services (Foundry) endpoints; serverless endpoints take keys only. */
export const DEFAULT_ENTRA_SCOPE = "https://cognitiveservices.azure.com/.default";

function readCredential(settings: SettingsReader, prefix: string): ModelCredentialConfig | undefined {
  const auth = settings.oneOf(`${prefix}AUTH`, ["key", "keyvault", "entra"] as const, "key");
  if (auth === "entra") {
    const scope = settings.string(`${prefix}SCOPE`, { required: false }) ?? DEFAULT_ENTRA_SCOPE;
    if (!/^https:\/\/[^\s/]+(\/[^\s]*)?\/\.default$/.test(scope)) return settings.problem(`${prefix}SCOPE must be an https resource ending in /.default`);
    return { kind: "entra", scope };
  }
  if (auth === "keyvault") return readSecretUri(settings, `${prefix}KEY_SECRET_URI`);
  const key = settings.secret(`${prefix}KEY`, { required: true });
  if (key === undefined) return undefined;
  return key === "unresolved" ? { kind: "unavailable", setting: `${prefix}KEY` } : { kind: "key", key: new Secret(key) };
}

/** `https://<vault>.vault.azure.net/secrets/<name>[/<version>]`, as the portal shows a secret's identifier. */
function readSecretUri(settings: SettingsReader, name: string): ModelCredentialConfig | undefined {
  const url = settings.url(name);
  if (url === undefined) return undefined;
  const match = /^\/secrets\/([0-9A-Za-z-]{1,127})(?:\/([0-9a-f]{32}))?\/?$/.exec(url.pathname);
  if (url.protocol !== "https:" || url.username || url.password || url.search || url.hash || !match) {
    return settings.problem(`${name} must look like https://<vault>.vault.azure.net/secrets/<name>[/<version>]`);
  }
  const [, secretName = "", secretVersion] = match;
  return { kind: "keyvault", vaultUrl: url.origin, secretName, ...(secretVersion ? { secretVersion } : {}) };
}

function readEndpoint(settings: SettingsReader, name: string): string | undefined {
  const url = settings.url(name);
  if (url === undefined) return undefined;
  if (url.username || url.password || url.search || url.hash) {
    return settings.problem(`${name} must be a plain base URL, without credentials, query or fragment`);
  }
  const secure = url.protocol === "https:";
  const localPlain = isPlainLocal(url);
  if (!secure && !localPlain) {
    return settings.problem(`${name} must use https (plain http is allowed for localhost only)`);
  }
  return url.href.replace(/\/+$/, "");
}
