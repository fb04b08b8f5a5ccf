import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ensureBicep, REPO_ROOT, restoredBicep, runBicep } from "../../../dev/infra/bicep-cli.js";
import { bicepParams } from "../../../dev/infra/check.js";
import { CHECKED_BY_COMPILER } from "./support/azure-types.js";

/**
 * The real Bicep compiler over infra/, where it can be had: the pinned CLI restored from NuGet (CI
 * restores it in `npm run infra:check` before the tests). Without .NET the structural checks of the
 * other tests still run, and this file says that the compiler's did not.
 */
function findCompiler(): { bicep?: string; why?: string } {
  const restored = restoredBicep();
  if (restored) return { bicep: restored };
  if (spawnSync("dotnet", ["--version"], { timeout: 30_000 }).error) return { why: "no .NET SDK on this machine to restore the pinned Bicep CLI from NuGet" };
  try {
    return { bicep: ensureBicep() };
  } catch (error) {
    return { why: (error as Error).message };
  }
}

const { bicep, why } = findCompiler();
if (!bicep) console.warn(`infra: the Bicep compiler check did not run: ${why}`);

// Skipped only where the compiler cannot be had (no .NET SDK, or NuGet out of reach): the warning above says
// why, and CI, which has both, runs `npm run infra:check` before the tests.
describe.skipIf(!bicep)("infra/ with the real Bicep compiler", () => {
  const compile = (args: string[]) => runBicep(bicep as string, args);

  it("builds main.bicep with no error and no warning, every linter rule an error", { timeout: 120_000 }, () => {
    const built = compile(["build", "infra/main.bicep", "--stdout"]);
    expect(built.stderr.trim()).toBe("");
    expect(built.status).toBe(0);
    const template = JSON.parse(built.stdout) as { $schema: string; resources: unknown };
    expect(template.$schema).toMatch(/subscriptionDeploymentTemplate\.json#$/);
    // The app's role assignments are made before the app (its first start reads Key Vault and storage as its identity).
    // (A symbolic-name template: resources keyed by their Bicep symbol, dependsOn naming symbols.)
    const resources = template.resources as Record<string, { name: string; dependsOn?: string[] }>;
    expect(resources.functionApp?.name).toBe("function-app");
    expect(resources.functionApp?.dependsOn).toContain("roleAssignments");
    // The types the structural checks leave to the compiler are in what it checked.
    for (const type of CHECKED_BY_COMPILER) expect(built.stdout, type).toContain(`"type": "${type}"`);
    const lint = compile(["lint", "--pattern", "infra/**/*.bicep"]);
    expect(lint.stderr.trim()).toBe("");
    expect(lint.status).toBe(0);
  });

  it("refuses what the home-made wiring checks used to look for: wrong module inputs, unused parameters and variables, unknown types", {
    timeout: 120_000,
  }, () => {
    // Scratch files next to infra/, so infra/bicepconfig.json (every rule an error) applies to them.
    const scratch = mkdtempSync(join(REPO_ROOT, "infra", ".check-"));
    try {
      writeFileSync(join(scratch, "child.bicep"), "param required string\nparam optional string = 'x'\noutput both string = '${required}${optional}'\n");
      const cases: Record<string, [source: string, diagnostic: RegExp]> = {
        "a module input the module does not declare": [
          "module child 'child.bicep' = {\n  name: 'child'\n  params: {\n    required: 'a'\n    unknown: 'b'\n  }\n}\n",
          /BCP037/,
        ],
        "a required module input left out": ["module child 'child.bicep' = {\n  name: 'child'\n  params: {}\n}\n", /BCP035/],
        "a parameter never used": ["param unused string\n", /no-unused-params/],
        "a variable never used": ["var unused = 1\n", /no-unused-vars/],
        "a resource type or API version Azure does not have": [
          "resource x 'Microsoft.Storage/storageAccounts@2001-01-01' = {\n  name: 'x'\n  location: 'westeurope'\n  kind: 'StorageV2'\n  sku: {\n    name: 'Standard_LRS'\n  }\n}\n",
          /BCP081/,
        ],
      };
      for (const [mistake, [source, diagnostic]] of Object.entries(cases)) {
        const file = join(scratch, "main.bicep");
        writeFileSync(file, source);
        const lint = compile(["lint", file]);
        expect(lint.stderr, mistake).toMatch(diagnostic);
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it("makes every linter rule of bicepconfig.json an error, so a warning cannot pass unseen", () => {
    const config = JSON.parse(readFileSync(join(REPO_ROOT, "infra", "bicepconfig.json"), "utf8")) as {
      analyzers: { core: { enabled: boolean; rules: Record<string, { level: string }> } };
    };
    expect(config.analyzers.core.enabled).toBe(true);
    const levels = new Set(Object.values(config.analyzers.core.rules).map((rule) => rule.level));
    expect([...levels]).toEqual(["error"]);
    expect(Object.keys(config.analyzers.core.rules).length).toBeGreaterThanOrEqual(40);
  });

  it("takes azd's parameters (main.parameters.json) for each hosting option; refuses one it does not know", { timeout: 120_000 }, () => {
    const scratch = mkdtempSync(join(REPO_ROOT, "infra", ".check-"));
    try {
      for (const option of ["foundry", "serverless"]) {
        const file = join(scratch, `${option}.bicepparam`);
        writeFileSync(file, bicepParams("../main.bicep", { AZURE_ENV_NAME: "test", AZURE_LOCATION: "swedencentral", MODEL_HOSTING: option }));
        const params = compile(["build-params", file, "--stdout"]);
        expect(params.stderr.trim(), option).toBe("");
        const parameters = (JSON.parse(params.stdout) as { parametersJson: string }).parametersJson;
        expect(JSON.parse(parameters).parameters.modelHosting.value).toBe(option);
      }
      const wrong = join(scratch, "wrong.bicepparam");
      writeFileSync(wrong, bicepParams("../main.bicep", { AZURE_ENV_NAME: "test", AZURE_LOCATION: "swedencentral", MODEL_HOSTING: "nonsense" }));
      const refused = compile(["build-params", wrong, "--stdout"]);
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toMatch(/modelHosting|nonsense/);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
