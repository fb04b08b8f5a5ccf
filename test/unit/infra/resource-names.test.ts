import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { nextResourceSuffix, setSuffixCommand } from "../../../hooks/postdown.mjs";
import { loadSchema } from "./support/azure-types.js";
import { loadBicep } from "./support/bicep.js";
import { AZD_ENV, azdParameters, type Deployment, deploy } from "./support/deployment.js";
import { FileContext, show, type Value } from "./support/evaluate.js";

/**
 * Azure's naming rules, for the names the templates compute with azd's environment. The type data has
 * some rules (length, pattern); the rest are from Azure's documented naming rules for each type.
 */
interface NameRule {
  readonly min: number;
  readonly max: number;
  readonly pattern: RegExp;
  /** Globally unique (a DNS name): must carry the resource token, never just the environment name. */
  readonly global?: boolean;
}

const RULES: Readonly<Record<string, NameRule>> = {
  "Microsoft.Resources/resourceGroups": { min: 1, max: 90, pattern: /^[-\w.()]*[-\w()]$/ },
  "Microsoft.ManagedIdentity/userAssignedIdentities": { min: 3, max: 128, pattern: /^[a-zA-Z0-9][a-zA-Z0-9_-]*$/ },
  "Microsoft.OperationalInsights/workspaces": { min: 4, max: 63, pattern: /^[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]$/ },
  "Microsoft.Insights/components": { min: 1, max: 260, pattern: /^[^%&\\?/]*[^%&\\?/. ]$/ },
  "Microsoft.Storage/storageAccounts": { min: 3, max: 24, pattern: /^[a-z0-9]+$/, global: true },
  "Microsoft.Storage/storageAccounts/blobServices": { min: 7, max: 7, pattern: /^default$/ },
  "Microsoft.Storage/storageAccounts/queueServices": { min: 7, max: 7, pattern: /^default$/ },
  "Microsoft.Storage/storageAccounts/tableServices": { min: 7, max: 7, pattern: /^default$/ },
  "Microsoft.Storage/storageAccounts/blobServices/containers": { min: 3, max: 63, pattern: /^[a-z0-9](?!.*--)[a-z0-9-]*[a-z0-9]$/ },
  "Microsoft.Storage/storageAccounts/queueServices/queues": { min: 3, max: 63, pattern: /^[a-z0-9](?!.*--)[a-z0-9-]*[a-z0-9]$/ },
  "Microsoft.Storage/storageAccounts/tableServices/tables": { min: 3, max: 63, pattern: /^[A-Za-z][A-Za-z0-9]*$/ },
  "Microsoft.KeyVault/vaults": { min: 3, max: 24, pattern: /^[a-zA-Z](?!.*--)[a-zA-Z0-9-]*[a-zA-Z0-9]$/, global: true },
  "Microsoft.KeyVault/vaults/secrets": { min: 1, max: 127, pattern: /^[a-zA-Z0-9-]+$/ },
  "Microsoft.Web/serverfarms": { min: 1, max: 60, pattern: /^[a-zA-Z0-9-]+$/ },
  "Microsoft.Web/sites": { min: 2, max: 60, pattern: /^[a-zA-Z0-9](?!.*--)[a-zA-Z0-9-]*[a-zA-Z0-9]$/, global: true },
  "Microsoft.Web/sites/config": { min: 3, max: 20, pattern: /^[a-zA-Z0-9]+$/ },
  "Microsoft.Web/sites/basicPublishingCredentialsPolicies": { min: 3, max: 3, pattern: /^(ftp|scm)$/ },
  // The name is also the subdomain <name>.services.ai.azure.com: a DNS label.
  "Microsoft.CognitiveServices/accounts": { min: 2, max: 63, pattern: /^[a-z0-9][a-z0-9-]*[a-z0-9]$/, global: true },
  "Microsoft.CognitiveServices/accounts/deployments": { min: 2, max: 64, pattern: /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/ },
  "Microsoft.MachineLearningServices/workspaces": { min: 3, max: 33, pattern: /^[a-zA-Z0-9][a-zA-Z0-9_-]*$/ },
  "Microsoft.MachineLearningServices/workspaces/marketplaceSubscriptions": { min: 3, max: 32, pattern: /^[a-zA-Z0-9][a-zA-Z0-9_-]*$/ },
  // The name is the host name <name>.<region>.models.ai.azure.com, unique in the region.
  "Microsoft.MachineLearningServices/workspaces/serverlessEndpoints": { min: 3, max: 32, pattern: /^[a-zA-Z][a-zA-Z0-9-]*[a-zA-Z0-9]$/, global: true },
  // Consumption Logic Apps: 1 to 43 letters, digits, hyphens, underscores, periods and parentheses.
  "Microsoft.Logic/workflows": { min: 1, max: 43, pattern: /^[-\w.()]+$/ },
  // Azure's naming rules for Static Web Apps: 2 to 40 letters, digits and hyphens, within a resource group.
  "Microsoft.Web/staticSites": { min: 2, max: 40, pattern: /^[a-zA-Z0-9](?!.*--)[a-zA-Z0-9-]*[a-zA-Z0-9]$/ },
  // No documented rule for custom connectors; held to what every resource type takes.
  "Microsoft.Web/customApis": { min: 1, max: 64, pattern: /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/ },
  "Microsoft.Authorization/roleAssignments": { min: 36, max: 36, pattern: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/ },
};

/** Every way a resource's name in `deployment` breaks Azure's rules for its type. */
function nameProblems(deployment: Deployment): string[] {
  const problems: string[] = [];
  const token = deployment.main.variable("resourceToken");
  for (const resource of deployment.resources) {
    const name = resource.name;
    const where = `${resource.label} (${resource.decl.type})`;
    if (typeof name !== "string" || name.includes("⟨")) {
      problems.push(`${where}: a name not known before deployment: ${show(name)}`);
      continue;
    }
    const rule = RULES[resource.decl.type];
    if (!rule) {
      problems.push(`${where}: no naming rule in resource-names.test.ts`);
      continue;
    }
    if (name.length < rule.min || name.length > rule.max) problems.push(`${where}: '${name}' has ${name.length} characters, not ${rule.min} to ${rule.max}`);
    if (!rule.pattern.test(name)) problems.push(`${where}: '${name}' does not match ${rule.pattern}`);
    if (rule.global && !resource.decl.existing && !name.includes(String(token)))
      problems.push(`${where}: '${name}' is global but does not carry the resource token`);
    const schemaName = loadSchema(resource.decl.type, resource.decl.apiVersion)?.properties.name;
    if (schemaName?.maxLength !== undefined && name.length > schemaName.maxLength) problems.push(`${where}: '${name}' is longer than ${schemaName.maxLength}`);
    if (schemaName?.minLength !== undefined && name.length < schemaName.minLength) problems.push(`${where}: '${name}' is shorter than ${schemaName.minLength}`);
    if (schemaName?.pattern && !new RegExp(schemaName.pattern).test(name)) problems.push(`${where}: '${name}' does not match ${schemaName.pattern}`);
  }
  return problems;
}

/** Names azd suggests or allows: its default, a long one, and the longest (64 characters). */
const ENVIRONMENT_NAMES = [AZD_ENV.AZURE_ENV_NAME ?? "dev", "mistral-functions-dev", `prod-${"x".repeat(59)}`];

describe.each(ENVIRONMENT_NAMES)("resource names for environment %s", (environmentName) => {
  it.each(["foundry", "serverless"])("respect Azure's length and character rules with modelHosting=%s", async (hosting) => {
    const deployment = await deploy({ ...azdParameters({ ...AZD_ENV, AZURE_ENV_NAME: environmentName }), modelHosting: hosting });
    const token = deployment.main.variable("resourceToken");
    expect(token).toMatch(/^[a-z0-9]{13}$/);
    expect(nameProblems(deployment)).toEqual([]);
  });
});

describe("conditional resources and modules", () => {
  // ARM validates the names and scopes of resources and modules whose condition is false as well
  // (Azure/bicep#1492): a name that is empty in some option fails the deployment that does not even create it.
  const options = ["foundry", "serverless"].flatMap((modelHosting) => ["on", "off"].map((logicAppsSample) => ({ modelHosting, logicAppsSample })));

  it.each(options)("are validly named in every option, created or not: modelHosting=$modelHosting, logicAppsSample=$logicAppsSample", async (option) => {
    const deployment = await deploy({ ...azdParameters(), ...option }, { everyDeclaration: true });
    expect(nameProblems(deployment)).toEqual([]);
    // Every declaration was evaluated, those the option does not create included.
    const types = new Set(deployment.resources.map((r) => r.decl.type));
    for (const type of [
      "Microsoft.CognitiveServices/accounts",
      "Microsoft.MachineLearningServices/workspaces/serverlessEndpoints",
      "Microsoft.Logic/workflows",
    ]) {
      expect(types, type).toContain(type);
    }
    const moduleNames = deployment.modules.map((m) => m.name);
    expect(moduleNames.filter((name) => typeof name !== "string" || !/^[-\w.()]{1,64}$/.test(name))).toEqual([]);
  });
});

describe("resource names", () => {
  it("are stable for an environment, and differ between environments", async () => {
    const names = async (env: string) =>
      (await deploy(azdParameters({ ...AZD_ENV, AZURE_ENV_NAME: env }))).resources
        .filter((r) => !r.decl.existing && RULES[r.decl.type]?.global)
        .map((r) => r.name);
    expect(await names("dev")).toEqual(await names("dev"));
    const [dev, test] = [await names("dev"), await names("test")];
    expect(dev.filter((name) => test.includes(name))).toEqual([]);
  });
});

describe("provisioning an environment again after azd down", () => {
  it("gets new names for everything global (a purge-protected Key Vault keeps its name for 90 days) once postdown set a new salt", async () => {
    const before = await deploy(azdParameters({ ...AZD_ENV }));
    const after = await deploy(azdParameters({ ...AZD_ENV, AZURE_RESOURCE_SUFFIX: nextResourceSuffix() }));
    const vaults = (deployment: Awaited<ReturnType<typeof deploy>>) =>
      deployment.resources.filter((r) => r.decl.type === "Microsoft.KeyVault/vaults" && !r.decl.existing).map((r) => r.name);
    expect(vaults(before)).toHaveLength(1);
    expect(vaults(after)).toHaveLength(1);
    expect(vaults(after)[0]).not.toBe(vaults(before)[0]);
    expect(after.main.variable("resourceToken")).not.toBe(before.main.variable("resourceToken"));
    // Without a salt (every environment provisioned so far), the names stay what they were.
    const again = await deploy(azdParameters({ ...AZD_ENV }));
    expect(vaults(again)).toEqual(vaults(before));
  });

  it("salts the names from AZURE_RESOURCE_SUFFIX, which the postdown hook sets anew for the environment taken down", () => {
    const suffix = nextResourceSuffix("abcd1234");
    expect(suffix).toMatch(/^[0-9a-f]{8}$/);
    expect(suffix).not.toBe("abcd1234");
    const [command, args] = setSuffixCommand({ AZURE_ENV_NAME: "staging", AZURE_RESOURCE_SUFFIX: "abcd1234" });
    expect(command).toBe("azd");
    expect(args).toEqual(["env", "set", "AZURE_RESOURCE_SUFFIX", expect.stringMatching(/^[0-9a-f]{8}$/), "-e", "staging"]);
    expect(() => setSuffixCommand({})).toThrow(/AZURE_ENV_NAME/);
  });

  it("keeps, without a salt, exactly the token environments had before the salt existed", async () => {
    const parameters = azdParameters({ ...AZD_ENV });
    const deployment = await deploy(parameters);
    // The formula before the salt, on its own, with the same parameters.
    const path = join(mkdtempSync(join(tmpdir(), "bicep-")), "token.bicep");
    writeFileSync(
      path,
      "targetScope = 'subscription'\nparam environmentName string\nparam location string\nvar token = toLower(uniqueString(subscription().id, environmentName, location))\n",
    );
    const before = await FileContext.create(await loadBicep(path), {
      environmentName: parameters.environmentName as Value,
      location: parameters.location as Value,
    });
    expect(deployment.main.variable("resourceToken")).toBe(before.variable("token"));
    const salted = await deploy({ ...parameters, resourceSuffix: "abcd1234" });
    expect(salted.main.variable("resourceToken")).not.toBe(before.variable("token"));
  });
});
