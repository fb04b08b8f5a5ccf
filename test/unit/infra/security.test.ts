import { describe, expect, it } from "vitest";
import type { Node } from "web-tree-sitter";
import { type BicepFile, INFRA_DIR, literalString, loadBicep, onlyResource, valueAt } from "./support/bicep.js";
import { azdParameters, deploy } from "./support/deployment.js";
import { evaluate } from "./support/evaluate.js";

/** The settings that make the deployment secure, read from the templates as written. */

const module = (name: string): Promise<BicepFile> => loadBicep(`${INFRA_DIR}/modules/${name}.bicep`);

/** A literal at a path of a resource body: string, bool or number. */
function literal(node: Node | undefined): string | boolean | number | undefined {
  if (!node) return undefined;
  if (node.type === "boolean") return node.text === "true";
  if (node.type === "number") return Number(node.text);
  return literalString(node);
}

function at(file: BicepFile, type: string, path: string): string | boolean | number | undefined {
  return literal(valueAt(onlyResource(file, type).body, path));
}

describe("security settings", () => {
  it("storage takes no shared key, no anonymous blobs, TLS 1.2 and HTTPS only", async () => {
    const storage = await module("storage");
    const type = "Microsoft.Storage/storageAccounts";
    expect(at(storage, type, "properties.allowSharedKeyAccess")).toBe(false);
    expect(at(storage, type, "properties.allowBlobPublicAccess")).toBe(false);
    expect(at(storage, type, "properties.minimumTlsVersion")).toBe("TLS1_2");
    expect(at(storage, type, "properties.supportsHttpsTrafficOnly")).toBe(true);
    expect(at(storage, "Microsoft.Storage/storageAccounts/blobServices/containers", "properties.publicAccess")).toBe("None");
  });

  it("Key Vault is in RBAC mode with soft delete and purge protection", async () => {
    const vault = await module("key-vault");
    const type = "Microsoft.KeyVault/vaults";
    expect(at(vault, type, "properties.enableRbacAuthorization")).toBe(true);
    expect(at(vault, type, "properties.enableSoftDelete")).toBe(true);
    expect(at(vault, type, "properties.enablePurgeProtection")).toBe(true);
  });

  it("Log Analytics and Application Insights refuse local authentication", async () => {
    const monitoring = await module("monitoring");
    expect(at(monitoring, "Microsoft.OperationalInsights/workspaces", "properties.features.disableLocalAuth")).toBe(true);
    expect(at(monitoring, "Microsoft.Insights/components", "properties.DisableLocalAuth")).toBe(true);
  });

  it("the function app is HTTPS only with TLS 1.2, no FTP, and runs as the user-assigned identity on Flex Consumption", async () => {
    const app = await module("function-app");
    const site = "Microsoft.Web/sites";
    expect(at(app, site, "properties.httpsOnly")).toBe(true);
    expect(at(app, site, "properties.siteConfig.minTlsVersion")).toBe("1.2");
    expect(at(app, site, "properties.siteConfig.scmMinTlsVersion")).toBe("1.2");
    expect(at(app, site, "properties.siteConfig.ftpsState")).toBe("Disabled");
    expect(at(app, site, "kind")).toBe("functionapp,linux");
    expect(at(app, site, "identity.type")).toBe("UserAssigned");
    expect(valueAt(onlyResource(app, site).body, "properties.keyVaultReferenceIdentity")?.text).toBe("identityId");
    expect(at(app, site, "properties.functionAppConfig.runtime.name")).toBe("node");
    expect(at(app, site, "properties.functionAppConfig.deployment.storage.authentication.type")).toBe("UserAssignedIdentity");
    expect(at(app, "Microsoft.Web/serverfarms", "sku.name")).toBe("FC1");
    expect(at(app, "Microsoft.Web/serverfarms", "sku.tier")).toBe("FlexConsumption");
    expect(at(app, "Microsoft.Web/serverfarms", "properties.reserved")).toBe(true);
    const node = app.params.get("nodeVersion");
    expect(node?.decorators.find((d) => d.name === "allowed")?.args[0]?.text.replace(/\s+/g, " ")).toBe("[ '20' '22' ]");
  });

  it("the Foundry resource is keyless, with content filtering on every deployment", async () => {
    const foundry = await module("foundry");
    expect(at(foundry, "Microsoft.CognitiveServices/accounts", "properties.disableLocalAuth")).toBe(true);
    expect(at(foundry, "Microsoft.CognitiveServices/accounts", "kind")).toBe("AIServices");
    expect(at(foundry, "Microsoft.CognitiveServices/accounts/deployments", "properties.raiPolicyName")).toBe("Microsoft.DefaultV2");
    expect(at(foundry, "Microsoft.CognitiveServices/accounts/deployments", "properties.model.format")).toBe("Mistral AI");
  });

  it("serverless endpoints have content safety on, a marketplace subscription first, and their key goes to Key Vault", async () => {
    const serverless = await module("serverless-endpoints");
    const endpoint = "Microsoft.MachineLearningServices/workspaces/serverlessEndpoints";
    expect(at(serverless, endpoint, "properties.contentSafety.contentSafetyStatus")).toBe("Enabled");
    expect(at(serverless, endpoint, "properties.authMode")).toBe("Key");
    expect(valueAt(onlyResource(serverless, endpoint).body, "dependsOn")?.text).toMatch(/marketplaceSubscriptions/);
    const secret = onlyResource(serverless, "Microsoft.KeyVault/vaults/secrets");
    expect(valueAt(secret.body, "properties.value")?.text).toBe("endpoints[i].listKeys().primaryKey");
  });

  it("the serverless endpoints and the marketplace subscriptions serve the same model ids", async () => {
    const deployment = await deploy({ ...azdParameters(), modelHosting: "serverless" });
    const modelIds = (type: string, path: string) =>
      deployment.resources.filter((r) => r.decl.type === type).map((r) => evaluate(valueAt(r.decl.body, path) as Node, r.scope));
    const endpoints = modelIds("Microsoft.MachineLearningServices/workspaces/serverlessEndpoints", "properties.modelSettings.modelId");
    expect(endpoints).toEqual([
      "azureml://registries/azureml-mistral/models/mistral-medium-2505",
      "azureml://registries/azureml-mistral/models/mistral-small-2503",
    ]);
    expect(modelIds("Microsoft.MachineLearningServices/workspaces/marketplaceSubscriptions", "properties.modelId")).toEqual(endpoints);
  });
});
