export { ConfigError } from "./config-error.js";
export { DEFAULT_API_VERSION, deploymentSettingPrefix } from "./deployments.js";
export { loadConfig } from "./load-config.js";
export { Secret } from "./secret.js";
export type { AppConfig, CallerKeyConfig, DeploymentConfig, HttpToolConfig, HttpToolsConfig, ModelCredentialConfig, SignedInUsersConfig } from "./types.js";

import { loadConfig } from "./load-config.js";
import type { AppConfig } from "./types.js";

let loaded: AppConfig | undefined;

/** The app's configuration, read from the process environment once (the only reader of process.env). */
export function appConfig(): AppConfig {
  loaded ??= loadConfig(process.env);
  return loaded;
}
