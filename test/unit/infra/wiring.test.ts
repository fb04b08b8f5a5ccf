import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Node } from "web-tree-sitter";
import { at, type BicepFile, findAll, loadBicep, objectEntries } from "./support/bicep.js";
import { allBicepFiles, MAIN_BICEP, parametersFile } from "./support/deployment.js";

/**
 * Parameters and outputs: azd's parameters fit main.bicep, and no secret leaves through an output. That every
 * module gets exactly the inputs it declares and every parameter and variable is used, the compiler checks
 * (compiler.test.ts shows it refusing each).
 */

/** Names a node mentions as identifiers (not object keys or properties). */
function identifiers(node: Node): Set<string> {
  return new Set(findAll(node, (n) => n.type === "identifier").map((n) => n.text));
}

/** Why an output may carry a secret; empty when it cannot. */
function secretOutputs(file: BicepFile): string[] {
  const secure = [...file.params.values()].filter((p) => p.decorators.some((d) => d.name === "secure")).map((p) => p.name);
  const problems: string[] = [];
  for (const output of file.outputs.values()) {
    const where = `${file.label} output ${output.name}`;
    if (output.decorators.some((d) => d.name === "secure")) problems.push(`${where} is @secure()`);
    if (/password/i.test(output.name)) problems.push(`${where} is named like a password`);
    for (const call of findAll(output.value, (n) => n.type === "call_expression")) {
      const fn = call.childForFieldName("function");
      const name = fn?.type === "member_expression" ? fn.childForFieldName("property")?.text : fn?.text;
      if (name && /^list/i.test(name)) problems.push(`${where} calls ${name}()`);
    }
    for (const property of findAll(output.value, (n) => n.type === "property_identifier")) {
      if (/^(primaryKey|secondaryKey|keys?|password|secret|value)$/i.test(property.text)) problems.push(`${where} reads .${property.text}`);
    }
    const used = identifiers(output.value);
    for (const name of secure) if (used.has(name)) problems.push(`${where} uses the secure parameter ${name}`);
  }
  return problems;
}

/** list*() calls outside a Key Vault secret's `properties.value`: a key would end up somewhere else. */
function keysOutsideKeyVault(file: BicepFile): string[] {
  const allowed = new Set<number>();
  for (const resource of file.resources.values()) {
    if (resource.type !== "Microsoft.KeyVault/vaults/secrets") continue;
    const properties = objectEntries(resource.body).find((e) => e.key === "properties")?.value;
    const value = properties && objectEntries(properties).find((e) => e.key === "value")?.value;
    if (value) for (const call of findAll(value, (n) => n.type === "call_expression")) allowed.add(call.id);
  }
  return findAll(file.root, (n) => n.type === "call_expression")
    .filter((call) => {
      const fn = call.childForFieldName("function");
      const name = fn?.type === "member_expression" ? fn.childForFieldName("property")?.text : fn?.text;
      return !!name && /^list/i.test(name) && !allowed.has(call.id);
    })
    .map((call) => `${at(call, file.label)}: ${call.text.slice(0, 60)}`);
}

describe("wiring of infra/", () => {
  it("main.parameters.json gives only parameters main.bicep declares, and every one without a default", async () => {
    const main = await loadBicep(MAIN_BICEP);
    const given = Object.keys(parametersFile().parameters);
    expect(given.filter((name) => !main.params.has(name))).toEqual([]);
    const required = [...main.params.values()].filter((p) => !p.defaultValue && !p.type.endsWith("?")).map((p) => p.name);
    expect(required.filter((name) => !given.includes(name))).toEqual([]);
  });

  it("main.parameters.json takes the azd environment's name, region and principal", () => {
    const { parameters } = parametersFile();
    expect(parameters.environmentName?.value).toBe("${AZURE_ENV_NAME}");
    expect(parameters.location?.value).toBe("${AZURE_LOCATION}");
    expect(parameters.principalId?.value).toBe("${AZURE_PRINCIPAL_ID}");
  });

  it("outputs no key, secret or secure parameter, in main.bicep or any module", async () => {
    const problems = (await allBicepFiles()).flatMap(secretOutputs);
    expect(problems).toEqual([]);
  });

  it("calls list*() only to write a key into a Key Vault secret", async () => {
    const problems = (await allBicepFiles()).flatMap(keysOutsideKeyVault);
    expect(problems).toEqual([]);
  });

  it("finds a key in an output (the check bites)", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "bicep-")), "leak.bicep");
    writeFileSync(
      path,
      [
        "@secure()",
        "param adminPassword string",
        "resource ep 'Microsoft.MachineLearningServices/workspaces/serverlessEndpoints@2026-05-01' existing = {",
        "  name: 'p/e'",
        "}",
        "output key string = ep.listKeys().primaryKey",
        "output login object = { user: 'a', password: adminPassword }",
      ].join("\n"),
    );
    const file = await loadBicep(path);
    expect(secretOutputs(file)).toEqual([
      expect.stringMatching(/output key calls listKeys\(\)/),
      expect.stringMatching(/output key reads \.primaryKey/),
      expect.stringMatching(/output login uses the secure parameter adminPassword/),
    ]);
    expect(keysOutsideKeyVault(file)).toHaveLength(1);
  });
});
