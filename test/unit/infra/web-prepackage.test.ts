import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { pageConfig, stagePage } from "../../../hooks/web-prepackage.mjs";
import { REPO_ROOT } from "./support/bicep.js";

/** The azd environment after provisioning, as the outputs and the Entra hook leave it. */
const ENV = {
  API_BASE_URL: "https://func-api-abc.azurewebsites.net/api",
  ENTRA_AUTHORITY: "https://login.microsoftonline.com/72f988bf-0000-4000-8000-000000000000",
  ENTRA_WEB_CLIENT_ID: "0b7c3a4e-0000-4000-8000-00000000face",
  ENTRA_API_CLIENT_ID: "5e0f1c2d-0000-4000-8000-00000000a11d",
};

describe("the web service's prepackage hook", () => {
  it("stages the built page with its config.json and the headers Static Web Apps sends with it", () => {
    const outDir = join(mkdtempSync(join(tmpdir(), "web-")), "page");
    const commands: string[] = [];
    // The build is npm test's own.
    stagePage({ projectDir: REPO_ROOT, env: ENV, outDir, run: (command, args) => void commands.push(`${command} ${args.join(" ")}`) });
    expect(commands).toEqual(["npm run build"]);
    expect(existsSync(join(outDir, "index.html"))).toBe(true);
    expect(JSON.parse(readFileSync(join(outDir, "config.json"), "utf8"))).toEqual({
      apiBaseUrl: ENV.API_BASE_URL,
      clientId: ENV.ENTRA_WEB_CLIENT_ID,
      authority: ENV.ENTRA_AUTHORITY,
      scopes: [`api://${ENV.ENTRA_API_CLIENT_ID}/Chat`],
    });
    const headers = JSON.parse(readFileSync(join(outDir, "staticwebapp.config.json"), "utf8")).globalHeaders;
    const csp = headers["content-security-policy"] as string;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self' https://func-api-abc.azurewebsites.net https://login.microsoftonline.com");
    expect(csp).not.toContain("unsafe");
    expect(headers["x-content-type-options"]).toBe("nosniff");
  });

  it("run as azd runs it, before provisioning, stops with that message and builds nothing", () => {
    const env = { PATH: process.env.PATH ?? "", API_BASE_URL: ENV.API_BASE_URL };
    const projectDir = mkdtempSync(join(tmpdir(), "web-"));
    const run = spawnSync(process.execPath, [resolve(REPO_ROOT, "hooks", "web-prepackage.mjs")], { cwd: projectDir, env, encoding: "utf8" });
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toMatch(
      /^The chat page cannot be configured without ENTRA_AUTHORITY, ENTRA_WEB_CLIENT_ID, ENTRA_API_CLIENT_ID in the azd environment/,
    );
    expect(readdirSync(projectDir)).toEqual([]);
  });

  it("refuses to stage a page it cannot configure, naming what the azd environment lacks", () => {
    expect(() => pageConfig({ ...ENV, ENTRA_WEB_CLIENT_ID: "", ENTRA_API_CLIENT_ID: undefined })).toThrow(
      /without ENTRA_WEB_CLIENT_ID, ENTRA_API_CLIENT_ID in the azd environment: run azd provision/,
    );
  });
});
