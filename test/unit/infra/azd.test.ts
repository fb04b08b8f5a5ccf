import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { callerKeyEntry as hookEntry, withSampleEntry } from "../../../hooks/logic-apps-sample-key.mjs";
import { postProvisionMessage } from "../../../hooks/postprovision.mjs";
import { BUNDLE, LOADED_ON_FIRST_USE, STAGING_DIR, stagePackage } from "../../../hooks/prepackage.mjs";
import { preProvisionProblems, regionProblems } from "../../../hooks/preprovision.mjs";
import { callerKeyEntry } from "../../../src/config/caller-key-material.js";
import { REPO_ROOT } from "./support/bicep.js";

/** azure.yaml, the hooks, and what the function app package holds. */

interface HookCommand {
  shell: string;
  run: string;
}
interface Hook {
  posix: HookCommand;
  windows: HookCommand;
}
interface AzureYaml {
  name: string;
  services: Record<string, { project: string; language: string; host: string; dist?: string; remoteBuild?: boolean; hooks?: Record<string, Hook> }>;
  infra: { provider: string; path: string; module: string };
  hooks?: Record<string, Hook>;
}

const azureYaml = parse(readFileSync(resolve(REPO_ROOT, "azure.yaml"), "utf8")) as AzureYaml;
const packageJson = JSON.parse(readFileSync(resolve(REPO_ROOT, "package.json"), "utf8")) as { main: string };

/** The script a hook runs with node, checked to be the same on both shells and to exist. */
function hookScript(hook: Hook | undefined): string {
  expect(hook?.posix.run).toBe(hook?.windows.run);
  expect(hook?.posix.shell).toBe("sh");
  expect(hook?.windows.shell).toBe("pwsh");
  const script = /^node (\S+\.mjs)$/.exec(hook?.posix.run ?? "")?.[1] ?? "";
  expect(existsSync(resolve(REPO_ROOT, script)), script).toBe(true);
  return script;
}

/** Lines of an ignore file that would match a top-level node_modules folder. */
function ignoresNodeModules(lines: readonly string[]): boolean {
  return lines.map((l) => l.trim()).some((l) => /^\/?(node_modules|node_modules\/|\*\*\/node_modules\/?|\*)$/.test(l));
}

describe("azure.yaml", () => {
  it("deploys the TypeScript api service to a function app, from the staged package, built here", () => {
    const api = azureYaml.services.api;
    expect(api).toMatchObject({ project: ".", language: "ts", host: "function", dist: STAGING_DIR, remoteBuild: false });
    expect(hookScript(api?.hooks?.prepackage)).toBe("hooks/prepackage.mjs");
  });

  it("provisions infra/main.bicep and then runs the postprovision hook", () => {
    expect(azureYaml.infra).toEqual({ provider: "bicep", path: "infra", module: "main" });
    expect(existsSync(resolve(REPO_ROOT, "infra/main.bicep"))).toBe(true);
    expect(hookScript(azureYaml.hooks?.postprovision)).toBe("hooks/postprovision.mjs");
  });

  it("runs hooks that load in Node as it is: every import they name exists (the test runner's loader forgives a missing one)", () => {
    const hooks = [...Object.values(azureYaml.hooks ?? {}), ...Object.values(azureYaml.services).flatMap((service) => Object.values(service.hooks ?? {}))];
    const scripts = hooks.map((hook) => pathToFileURL(resolve(REPO_ROOT, hookScript(hook))).href);
    expect(scripts.length).toBeGreaterThanOrEqual(5);
    // Imported, not run: each hook runs only as the script node was started with.
    const loaded = spawnSync(process.execPath, ["--input-type=module", "-e", `for (const url of ${JSON.stringify(scripts)}) await import(url);`], {
      encoding: "utf8",
    });
    expect(loaded.status, loaded.stderr).toBe(0);
    expect(loaded.stderr).toBe("");
  });

  it("has a .funcignore that keeps node_modules (azd refuses remoteBuild: false otherwise) and leaves out the staging folder", () => {
    const lines = readFileSync(resolve(REPO_ROOT, ".funcignore"), "utf8").split("\n");
    expect(ignoresNodeModules(lines)).toBe(false);
    expect(lines).toContain(STAGING_DIR);
    expect(ignoresNodeModules(["node_modules/"])).toBe(true);
  });
});

describe("the prepackage hook", () => {
  function fakeProject(): string {
    const dir = mkdtempSync(join(tmpdir(), "stage-"));
    writeFileSync(join(dir, "host.json"), '{"version": "2.0"}');
    writeFileSync(
      join(dir, "package.json"),
      JSON.stringify({
        name: "app",
        main: packageJson.main,
        scripts: { build: "node -e \"require('fs').writeFileSync('built', '')\"" },
        dependencies: { a: "1" },
        devDependencies: { b: "1" },
      }),
    );
    writeFileSync(join(dir, "package-lock.json"), "{}");
    writeFileSync(join(dir, "local.settings.json"), '{"Values": {"KEY": "secret"}}');
    for (const sub of ["src", "dev", "test"]) mkdirSync(join(dir, "dist", sub), { recursive: true });
    mkdirSync(join(dir, "dist", "src", "functions"));
    // What the worker would run: the entry point first, then each function, each registering itself.
    writeFileSync(join(dir, "dist", "src", "index.js"), 'globalThis.loaded = ["index"]; require("./lib/shared.js");');
    mkdirSync(join(dir, "dist", "src", "lib"));
    writeFileSync(join(dir, "dist", "src", "lib", "shared.js"), 'globalThis.loaded.push("shared");');
    writeFileSync(join(dir, "dist", "src", "functions", "health.js"), 'globalThis.loaded.push("health"); require("@azure/functions-core");');
    writeFileSync(join(dir, "dist", "src", "functions", "chat.js"), 'globalThis.loaded.push("chat");');
    writeFileSync(join(dir, "dist", "dev", "start.js"), "");
    mkdirSync(join(dir, "src"));
    writeFileSync(join(dir, "src", "index.ts"), "");
    return dir;
  }

  it("run as azd runs it, builds the project and stages host.json, a package.json whose main is the bundle, one bundle of the app's entry point and functions, and one per package loaded on first use", () => {
    const projectDir = fakeProject();
    // The fake project bundles with this project's esbuild.
    symlinkSync(resolve(REPO_ROOT, "node_modules"), join(projectDir, "node_modules"), "dir");
    const run = spawnSync(process.execPath, [resolve(REPO_ROOT, "hooks", "prepackage.mjs")], { cwd: projectDir, encoding: "utf8" });
    expect(run.status, run.stderr).toBe(0);
    const outDir = join(projectDir, STAGING_DIR);
    expect(run.stdout).toContain(`Staged the function app package in ${outDir}`);
    // The project's own build ran (and nothing is installed in the package).
    expect(existsSync(join(projectDir, "built"))).toBe(true);
    expect(readdirSync(outDir).sort()).toEqual([".funcignore", ".gitignore", "dist", "host.json", "node_modules", "package.json"]);
    expect(readdirSync(join(outDir, "dist"))).toEqual(["main.js"]);
    for (const name of LOADED_ON_FIRST_USE) {
      expect(JSON.parse(readFileSync(join(outDir, "node_modules", name, "package.json"), "utf8"))).toEqual({ name, main: "index.js" });
    }
    const staged = JSON.parse(readFileSync(join(outDir, "package.json"), "utf8"));
    expect(staged).toEqual({ name: "app", private: true, main: BUNDLE });
    // The bundle loads what package.json's main named, in the worker's order, and leaves the worker's own module to it.
    const bundled = readFileSync(join(outDir, BUNDLE), "utf8");
    expect(bundled).toContain('require("@azure/functions-core")');
    const loaded = new Function("require", "globalThis", `${bundled}; return globalThis.loaded;`)(
      (name: string) => (name === "@azure/functions-core" ? {} : undefined),
      {} as Record<string, unknown>,
    );
    expect(loaded).toEqual(["index", "shared", "chat", "health"]);
    expect(readFileSync(join(outDir, ".funcignore"), "utf8")).not.toMatch(/node_modules/);
  });

  it("bundles on its own exactly each package the app requires on first use", () => {
    const lazy = new Set<string>();
    const walk = (folder: string) => {
      for (const entry of readdirSync(folder, { withFileTypes: true })) {
        const path = join(folder, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith(".ts")) {
          for (const [, name] of readFileSync(path, "utf8").matchAll(/\brequire\("([^".][^"]*)"\)/g)) lazy.add(name as string);
        }
      }
    };
    walk(resolve(REPO_ROOT, "src"));
    // ajv-formats reaches into ajv's own files, so the two stay in the app's bundle.
    for (const name of ["ajv", "ajv-formats"]) lazy.delete(name);
    expect([...LOADED_ON_FIRST_USE].sort()).toEqual([...lazy].sort());
  });

  it("stops when the build made no app", async () => {
    const empty = mkdtempSync(join(tmpdir(), "stage-"));
    await expect(stagePackage({ projectDir: empty, run: () => undefined })).rejects.toThrow(/dist\/src\/index\.js/);
    expect(existsSync(join(empty, STAGING_DIR))).toBe(false);
  });

  it("ships only production dependencies that run anywhere: no native code, no install step they need", () => {
    const lock = JSON.parse(readFileSync(resolve(REPO_ROOT, "package-lock.json"), "utf8")) as {
      packages: Record<string, { dev?: boolean; optional?: boolean; os?: string[]; cpu?: string[]; gypfile?: boolean; hasInstallScript?: boolean }>;
    };
    // Reviewed: protobufjs' postinstall only prints a version warning; staging runs npm ci --ignore-scripts.
    const reviewedInstallScripts = new Set(["protobufjs"]);
    const problems: string[] = [];
    for (const [path, pkg] of Object.entries(lock.packages)) {
      if (!path || pkg.dev) continue;
      const name = path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length);
      if (pkg.os || pkg.cpu || pkg.gypfile) problems.push(`${name} is built for one platform`);
      if (pkg.hasInstallScript && !reviewedInstallScripts.has(name)) problems.push(`${name} has an install script, which staging skips: review it`);
    }
    expect(problems).toEqual([]);
  });
});

describe("the preprovision hook", () => {
  it("runs before provisioning; after azd down, the postdown hook salts the next names", () => {
    expect(hookScript(azureYaml.hooks?.preprovision)).toBe("hooks/preprovision.mjs");
    expect(hookScript(azureYaml.hooks?.postdown)).toBe("hooks/postdown.mjs");
  });

  it("refuses * and anything that is not an origin as CORS_ALLOWED_ORIGINS, before anything is created", () => {
    expect(preProvisionProblems({})).toEqual([]);
    expect(preProvisionProblems({ CORS_ALLOWED_ORIGINS: " https://a.example.com, http://localhost:5173 ," })).toEqual([]);
    expect(preProvisionProblems({ CORS_ALLOWED_ORIGINS: "*" })).toEqual([
      "CORS_ALLOWED_ORIGINS may not be *: list the origins of your web frontends, e.g. https://app.example.com",
    ]);
    expect(preProvisionProblems({ CORS_ALLOWED_ORIGINS: "https://a.example.com/app,ftp://b.example.com" })).toHaveLength(2);
  });
});

describe("the preprovision hook's region check", () => {
  it("refuses a model region the chosen models are not offered in, and says where they are", () => {
    // mistral-small-2503 is a partner model: not offered in a European region on Foundry (September 2026).
    const [problem] = regionProblems({ AZURE_LOCATION: "swedencentral" });
    expect(problem).toMatch(/^mistral-small-2503 \(FOUNDRY_MISTRAL_SMALL_MODEL\) is not offered in swedencentral for foundry/);
    expect(problem).toContain("eastus2");
    expect(regionProblems({ AZURE_LOCATION: "eastus2" })).toEqual([]);
    // The model region is AZURE_MODEL_LOCATION when set, which lets the app stay in Europe.
    expect(regionProblems({ AZURE_LOCATION: "swedencentral", AZURE_MODEL_LOCATION: "eastus2" })).toEqual([]);
    expect(regionProblems({ AZURE_LOCATION: "westeurope", MODEL_HOSTING: "serverless" })).toHaveLength(2);
    expect(regionProblems({ AZURE_LOCATION: "swedencentral", MODEL_HOSTING: "serverless" })).toEqual([]);
  });

  it("checks only models it has a list for, and can be skipped for a region newer than the list", () => {
    // Mistral-Large-3 is sold by Azure, in every region; a model not in the list is not checked.
    expect(regionProblems({ AZURE_LOCATION: "swedencentral", FOUNDRY_MISTRAL_SMALL_MODEL: "Mistral-Large-3" })).toEqual([]);
    expect(regionProblems({ AZURE_LOCATION: "swedencentral", FOUNDRY_MISTRAL_SMALL_MODEL: "some-future-model" })).toEqual([]);
    expect(regionProblems({ AZURE_LOCATION: "swedencentral", AZURE_SKIP_REGION_CHECK: "true" })).toEqual([]);
  });

  it("knows the models main.parameters.json deploys by default, variable and model alike", () => {
    const text = readFileSync(resolve(REPO_ROOT, "infra/main.parameters.json"), "utf8");
    const defaults = [...text.matchAll(/\$\{((?:FOUNDRY|SERVERLESS)_MISTRAL_[A-Z]+_MODEL)=([^}]*)\}/g)].map(([, variable, model]) => [variable, model]);
    expect(defaults).toHaveLength(4);
    for (const [variable, model] of defaults) {
      // Each default is either offered anywhere or listed; a model a test region lacks is caught by name.
      const hosting = variable?.startsWith("FOUNDRY") ? "foundry" : "serverless";
      const problems = regionProblems({ AZURE_LOCATION: "nowhere", MODEL_HOSTING: hosting });
      const anywhere = model === "Mistral-Large-3";
      expect(
        problems.some((p) => p.startsWith(`${model} (${variable})`)),
        `${variable}=${model}`,
      ).toBe(!anywhere);
    }
  });
});

describe("the postprovision hook", () => {
  const env = {
    API_BASE_URL: "https://func-api-abc.azurewebsites.net/api",
    AZURE_KEY_VAULT_NAME: "kv-abc",
    CALLER_KEYS_SECRET_NAME: "caller-keys",
    AZURE_SUBSCRIPTION_ID: "00000000-0000-0000-0000-000000000001",
    AZURE_RESOURCE_GROUP: "rg-dev",
    AZURE_FUNCTION_APP_NAME: "func-api-abc",
    MODEL_HOSTING: "foundry",
    MODEL_ENDPOINTS: JSON.stringify([{ alias: "mistral-large", endpoint: "https://aif-abc.services.ai.azure.com/models" }]),
  };

  it("says how to make the first caller key and where to store it", () => {
    const message = postProvisionMessage(env);
    expect(message).toContain("npm run key -- create");
    expect(message).toContain("az keyvault secret set --vault-name kv-abc --name caller-keys");
    expect(message).toContain(
      "https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-dev/providers/Microsoft.Web/sites/func-api-abc/config/configreferences/appsettings/refresh",
    );
    expect(message).toContain("mistral-large");
    expect(message).toContain("https://aif-abc.services.ai.azure.com/models");
    expect(message).toContain("https://func-api-abc.azurewebsites.net/api/health/ready");
  });

  it("names the outputs of main.bicep it reads", () => {
    const main = readFileSync(resolve(REPO_ROOT, "infra/main.bicep"), "utf8");
    for (const name of [
      "API_BASE_URL",
      "AZURE_KEY_VAULT_NAME",
      "CALLER_KEYS_SECRET_NAME",
      "AZURE_RESOURCE_GROUP",
      "AZURE_FUNCTION_APP_NAME",
      "MODEL_HOSTING",
      "MODEL_ENDPOINTS",
      "WEB_URL",
      "ENTRA_AUTHORITY",
    ]) {
      expect(main).toMatch(new RegExp(`^output ${name} `, "m"));
    }
  });

  it("says where the chat page is, and whether its sign-in is on", () => {
    const page = { ...env, WEB_URL: "https://stapp-abc.azurestaticapps.net" };
    expect(postProvisionMessage({ ...page, ENTRA_WEB_CLIENT_ID: "0b7c3a4e-0000-4000-8000-00000000face" })).toContain(
      "The chat page is at https://stapp-abc.azurestaticapps.net/ once azd deploys it (sign in with your work account).",
    );
    expect(postProvisionMessage(page)).toContain("(sign-in is off: see docs/web.md)");
    expect(postProvisionMessage(env)).not.toContain("chat page");
  });

  it("still prints its instructions without an azd environment", () => {
    expect(postProvisionMessage({ MODEL_ENDPOINTS: "not json" })).toContain("npm run key -- create");
  });
});

describe("the Logic Apps sample's key hook", () => {
  it("makes the CALLER_KEYS entry exactly as the app's key tool does, and changes only its own entry", () => {
    for (const key of ["mfk_abc", "a key with spaces", "ключ"]) expect(hookEntry("logic-apps-sample", key)).toBe(callerKeyEntry("logic-apps-sample", key));
    const entry = hookEntry("logic-apps-sample", "k");
    expect(withSampleEntry("ops:aa, logic-apps-sample:bb", entry)).toBe(`ops:aa,${entry}`);
    expect(withSampleEntry(undefined, entry)).toBe(entry);
    expect(withSampleEntry(`ops:aa,${entry}`, undefined)).toBe("ops:aa");
  });
});
