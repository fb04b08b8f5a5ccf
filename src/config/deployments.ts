import { isPlainLocal } from "./loopback.js";
import { Secret } from "./secret.js";
import type { SettingsReader } from "./settings-reader.js";
import type { DeploymentConfig } from "./types.js";

export const DEFAULT_API_VERSION = "2024-05-01-preview";
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
      settings.problem(
        `MODEL_DEPLOYMENTS: "${alias}" is not a valid alias (lowercase letters, digits and single hyphens, at most 40 characters)`,
      );
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
  const apiVersion = settings.string(`${prefix}API_VERSION`, { required: false }) ?? DEFAULT_API_VERSION;
  if (!API_VERSION.test(apiVersion)) {
    settings.problem(`${prefix}API_VERSION must look like 2024-05-01-preview or 2025-04-01`);
  }
  settings.oneOf(`${prefix}AUTH`, ["key"] as const, "key");
  const key = settings.string(`${prefix}KEY`, { required: true });
  if (endpoint === undefined || model === undefined || key === undefined) return undefined;
  return { alias, endpoint, model, apiVersion, credential: { kind: "key", key: new Secret(key) } };
}

function readEndpoint(settings: SettingsReader, name: string): string | undefined {
  const raw = settings.string(name, { required: true });
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return settings.problem(`${name} is not a valid URL`);
  }
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
