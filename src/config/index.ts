export { loadConfig } from "./load-config.js";
export { ConfigError } from "./config-error.js";
export { Secret } from "./secret.js";
export { deploymentSettingPrefix, DEFAULT_API_VERSION } from "./deployments.js";
export type { AppConfig, DeploymentConfig, CallerKeyConfig, ModelCredentialConfig, HttpToolConfig, HttpToolsConfig } from "./types.js";

import { loadConfig } from "./load-config.js";
import type { AppConfig } from "./types.js";

let loaded: AppConfig | undefined;

/** The app's configuration, read from the process environment once (the only reader of process.env). */
export function appConfig(): AppConfig {
  loaded ??= loadConfig(process.env);
  return loaded;
}
