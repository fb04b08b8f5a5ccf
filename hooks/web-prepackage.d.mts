import type { RunCommand } from "./prepackage.mjs";

export declare const WEB_STAGING_DIR: string;

export declare function pageConfig(env: Readonly<Record<string, string | undefined>>): {
  apiBaseUrl: string;
  clientId: string;
  authority: string;
  scopes: string[];
};

export declare function stagePage(options: {
  projectDir: string;
  env: Readonly<Record<string, string | undefined>>;
  outDir?: string;
  run?: RunCommand;
}): string;
