// azd `prepackage` hook of the `web` service: stages the chat page for Static Web Apps into `.deploy-web/`,
// which azure.yaml names as the service's `dist`: the page as `npm run build` makes it (dist/web), its
// configuration (config.json: the API's URL, the page's registration, the tenant's authority and the API's
// scope, from the azd environment that provisioning and hooks/entra-apps.mjs filled), and
// staticwebapp.config.json with the headers the local page server sends too (the Content-Security-Policy
// that lets the page talk only to the API and the sign-in authority).
import { cpSync, existsSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { runCommand } from "./prepackage.mjs";

export const WEB_STAGING_DIR = ".deploy-web";

/** config.json for the page, from the azd environment; throws naming what is missing. */
export function pageConfig(env) {
  const missing = ["API_BASE_URL", "ENTRA_AUTHORITY", "ENTRA_WEB_CLIENT_ID", "ENTRA_API_CLIENT_ID"].filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new Error(
      `The chat page cannot be configured without ${missing.join(", ")} in the azd environment: run azd provision (its hooks register the page in Entra ID; docs/web.md)`,
    );
  }
  return {
    apiBaseUrl: env.API_BASE_URL,
    clientId: env.ENTRA_WEB_CLIENT_ID,
    authority: env.ENTRA_AUTHORITY,
    scopes: [`api://${env.ENTRA_API_CLIENT_ID}/Chat`],
  };
}

/** Builds the page and stages it with its configuration in `outDir`. */
export function stagePage({ projectDir, env, outDir = join(projectDir, WEB_STAGING_DIR), run = runCommand }) {
  const config = pageConfig(env);
  run("npm", ["run", "build"], projectDir);
  const page = join(projectDir, "dist", "web");
  if (!existsSync(join(page, "index.html"))) throw new Error("npm run build did not produce dist/web/index.html");
  rmSync(outDir, { recursive: true, force: true });
  cpSync(page, outDir, { recursive: true });
  writeFileSync(join(outDir, "config.json"), `${JSON.stringify(config, null, 2)}\n`);
  const { pageHeaders } = createRequire(join(projectDir, "package.json"))(join(projectDir, "dist", "dev", "web", "page-server.js"));
  const connectTo = [new URL(config.apiBaseUrl).origin, new URL(config.authority).origin];
  const staticWebApp = { globalHeaders: pageHeaders(connectTo), mimeTypes: { ".json": "application/json" } };
  writeFileSync(join(outDir, "staticwebapp.config.json"), `${JSON.stringify(staticWebApp, null, 2)}\n`);
  return outDir;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    console.log(`Staged the chat page in ${stagePage({ projectDir: process.cwd(), env: process.env })}`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  }
}
