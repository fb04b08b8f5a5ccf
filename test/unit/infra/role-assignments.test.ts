import { describe, expect, it } from "vitest";
import type { Node } from "web-tree-sitter";
import { INFRA_DIR, valueAt } from "./support/bicep.js";
import { AZD_ENV, allBicepFiles, azdParameters, deploy, type ResourceInstance } from "./support/deployment.js";
import { evaluate, ResourceRef, show } from "./support/evaluate.js";

/** Azure's built-in roles the deployment may grant (ids are the same in every tenant). */
const ROLES: Readonly<Record<string, string>> = {
  "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
  "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": "Storage Table Data Contributor",
  "974c5e8b-45b9-4653-ba55-5f855dd0fb88": "Storage Queue Data Contributor",
  "4633458b-17de-408a-b874-0445c86b69e6": "Key Vault Secrets User",
  "b86a8fe4-44ce-4948-aee5-eccb2c155cd7": "Key Vault Secrets Officer",
  "3913510d-42f4-4e42-8a64-420c390055eb": "Monitoring Metrics Publisher",
  "a97b65f3-24c7-4388-baec-2e87135dc908": "Cognitive Services User",
};

/** Who each principal parameter of role-assignments.bicep is. */
const PRINCIPALS: Readonly<Record<string, Grant["principal"]>> = {
  appPrincipalId: "app",
  deployerPrincipalId: "deployer",
  logicAppsSamplePrincipalId: "workflow",
};

interface Grant {
  readonly role: string;
  readonly principal: "app" | "deployer" | "workflow";
  readonly scope: string;
}

/** Role, principal and scope of each assignment a deployment makes. */
function grants(assignments: readonly ResourceInstance[]): Grant[] {
  return assignments.map((a) => {
    const roleId = evaluate(valueAt(a.decl.body, "properties.roleDefinitionId") as Node, a.scope);
    const guid = /roleDefinitions\/([0-9a-f-]{36})$/.exec(String(roleId))?.[1] ?? "";
    const principal = valueAt(a.decl.body, "properties.principalId")?.text;
    const scope = evaluate(valueAt(a.decl.body, "scope") as Node, a.scope);
    return {
      role: ROLES[guid] ?? `unknown role ${show(roleId)}`,
      principal: PRINCIPALS[principal ?? ""] ?? ("?" as "app"),
      scope: scope instanceof ResourceRef ? scope.decl.type : show(scope),
    };
  });
}

async function assignments(hosting: string, env = AZD_ENV) {
  const deployment = await deploy({ ...azdParameters(env), modelHosting: hosting });
  return deployment.resources.filter((r) => r.decl.type === "Microsoft.Authorization/roleAssignments");
}

describe("role assignments", () => {
  it("are all in modules/role-assignments.bicep", async () => {
    const elsewhere = (await allBicepFiles()).flatMap((file) =>
      [...file.resources.values()]
        .filter((r) => r.type === "Microsoft.Authorization/roleAssignments" && file.path !== `${INFRA_DIR}/modules/role-assignments.bicep`)
        .map((r) => `${file.label} ${r.symbol}`),
    );
    expect(elsewhere).toEqual([]);
  });

  it("grant the app, with the Foundry option, exactly what it uses, each on the one resource it is for", async () => {
    expect(grants(await assignments("foundry"))).toEqual([
      { role: "Storage Blob Data Owner", principal: "app", scope: "Microsoft.Storage/storageAccounts" },
      { role: "Storage Table Data Contributor", principal: "app", scope: "Microsoft.Storage/storageAccounts" },
      { role: "Storage Queue Data Contributor", principal: "app", scope: "Microsoft.Storage/storageAccounts" },
      { role: "Key Vault Secrets User", principal: "app", scope: "Microsoft.KeyVault/vaults" },
      { role: "Monitoring Metrics Publisher", principal: "app", scope: "Microsoft.Insights/components" },
      { role: "Cognitive Services User", principal: "app", scope: "Microsoft.CognitiveServices/accounts" },
      { role: "Key Vault Secrets Officer", principal: "deployer", scope: "Microsoft.KeyVault/vaults" },
      { role: "Key Vault Secrets User", principal: "workflow", scope: "Microsoft.KeyVault/vaults/secrets" },
    ]);
  });

  it("grant the Logic Apps sample workflow its own key's secret alone, and nothing when the sample is off", async () => {
    const sample = grants(await assignments("foundry")).filter((g) => g.principal === "workflow");
    expect(sample).toEqual([{ role: "Key Vault Secrets User", principal: "workflow", scope: "Microsoft.KeyVault/vaults/secrets" }]);
    const secret = (await assignments("foundry")).find((a) => valueAt(a.decl.body, "properties.principalId")?.text === "logicAppsSamplePrincipalId");
    const scope = evaluate(valueAt(secret?.decl.body as Node, "scope") as Node, secret?.scope as ResourceInstance["scope"]);
    const name = scope instanceof ResourceRef ? scope.context.evaluate(valueAt(scope.decl.body, "name") as Node, scope.context.scope()) : undefined;
    expect(name).toBe("logic-apps-sample-key");
    const off = grants(await assignments("foundry", { ...AZD_ENV, LOGIC_APPS_SAMPLE: "off" }));
    expect(off.filter((g) => g.principal === "workflow")).toEqual([]);
  });

  it("grant no Cognitive Services role with serverless endpoints (they take keys), and nothing to an absent deployer", async () => {
    const roles = grants(await assignments("serverless", { ...AZD_ENV, AZURE_PRINCIPAL_ID: "" })).map((g) => `${g.principal}: ${g.role}`);
    expect(roles).toEqual([
      "app: Storage Blob Data Owner",
      "app: Storage Table Data Contributor",
      "app: Storage Queue Data Contributor",
      "app: Key Vault Secrets User",
      "app: Monitoring Metrics Publisher",
      "workflow: Key Vault Secrets User",
    ]);
  });

  it("each say in a comment right above which role (by name and id) and why", async () => {
    const problems: string[] = [];
    for (const a of await assignments("foundry")) {
      const roleId = String(evaluate(valueAt(a.decl.body, "properties.roleDefinitionId") as Node, a.scope));
      const guid = roleId.slice(-36);
      const comment = a.decl.leadingComments.join("\n");
      if (!comment.includes(guid) || !comment.includes(ROLES[guid] ?? "?"))
        problems.push(`${a.label}: the comment above does not name ${ROLES[guid] ?? guid} (${guid})`);
      if (comment.split(":").slice(1).join(":").trim().length < 20) problems.push(`${a.label}: the comment above does not say why`);
    }
    expect(problems).toEqual([]);
  });

  it("are named by guid(scope, principal, role), so provisioning again changes nothing, and name the app as a service principal", async () => {
    for (const a of await assignments("foundry")) {
      const name = valueAt(a.decl.body, "name")?.text.replace(/\s+/g, "") ?? "";
      expect(name, a.label).toMatch(/^guid\(\w+\.id,(appPrincipalId|deployerPrincipalId|logicAppsSamplePrincipalId),roles\.\w+\)$/);
      const type = valueAt(a.decl.body, "properties.principalType")?.text;
      // A new identity is not yet visible everywhere in Entra ID; saying its type avoids a failed assignment.
      if (valueAt(a.decl.body, "properties.principalId")?.text !== "deployerPrincipalId") expect(type, a.label).toBe("'ServicePrincipal'");
    }
  });
});

describe("conditional resources", () => {
  it("name the Foundry resource validly in every option: ARM checks the names of conditional resources too (Azure/bicep#1492)", async () => {
    for (const hosting of ["foundry", "serverless"]) {
      const deployment = await deploy({ ...azdParameters(), modelHosting: hosting });
      const roles = deployment.main.module("roleAssignments");
      expect(roles.params.useFoundry, hosting).toBe(hosting === "foundry");
      expect(roles.params.foundryAccountName, hosting).toMatch(/^aif-[a-z0-9]{13}$/);
    }
  });
});
