import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import {
  apiVersions,
  CHECKED_BY_COMPILER,
  checkBody,
  knownType,
  loadSchema,
  SHARED_TYPES_DIR,
  schemaFileName,
  stableVersions,
  TYPES_DIR,
} from "./support/azure-types.js";
import { type BicepFile, loadBicep, type ResourceDecl } from "./support/bicep.js";
import { allBicepFiles } from "./support/deployment.js";

/** Every resource declaration of every file, with where it is. */
async function declarations(): Promise<{ file: BicepFile; decl: ResourceDecl; where: string }[]> {
  return (await allBicepFiles()).flatMap((file) =>
    [...file.resources.values()].filter((decl) => !CHECKED_BY_COMPILER.has(decl.type)).map((decl) => ({ file, decl, where: `${file.label} ${decl.symbol}` })),
  );
}

/** The problems checkBody finds in one resource written into a scratch file. */
async function problemsOf(resource: string): Promise<string[]> {
  const path = join(mkdtempSync(join(tmpdir(), "bicep-")), "resource.bicep");
  writeFileSync(path, `param name string\n${resource}\n`);
  const file = await loadBicep(path);
  const [decl] = file.resources.values();
  if (!decl) throw new Error("no resource");
  const schema = loadSchema(decl.type, decl.apiVersion);
  if (!schema) throw new Error(`no schema for ${decl.type}@${decl.apiVersion}`);
  return checkBody(decl.body, schema, file.label, { existing: decl.existing });
}

describe("resource types and API versions (Azure's own type data)", () => {
  it("uses only resource types and API versions that exist", async () => {
    const problems: string[] = [];
    for (const { decl, where } of await declarations()) {
      const type = knownType(decl.type);
      if (!type) problems.push(`${where}: ${decl.type} is not a resource type in the data`);
      else if (type !== decl.type) problems.push(`${where}: spelled ${decl.type}, Azure spells ${type}`);
      else if (!apiVersions[type]?.includes(decl.apiVersion)) problems.push(`${where}: ${type} has no API version ${decl.apiVersion}`);
    }
    expect(problems).toEqual([]);
  });

  it("uses a current stable API version: one of the two newest of each type", async () => {
    const problems: string[] = [];
    for (const { decl, where } of await declarations()) {
      const current = stableVersions(decl.type).slice(0, 2);
      if (!current.includes(decl.apiVersion)) problems.push(`${where}: ${decl.type}@${decl.apiVersion}; current: ${current.join(", ")}`);
    }
    expect(problems).toEqual([]);
  });

  it("uses one API version per type across all files", async () => {
    const versions = new Map<string, Set<string>>();
    for (const { decl } of await declarations()) versions.set(decl.type, (versions.get(decl.type) ?? new Set()).add(decl.apiVersion));
    expect([...versions].filter(([, v]) => v.size > 1).map(([type, v]) => `${type}: ${[...v].join(", ")}`)).toEqual([]);
  });

  it("sets only properties the type has, none read-only, with literal values of the right type and every required one", async () => {
    const problems: string[] = [];
    for (const { file, decl, where } of await declarations()) {
      const schema = loadSchema(decl.type, decl.apiVersion);
      if (!schema) {
        problems.push(`${where}: no schema file ${schemaFileName(decl.type, decl.apiVersion)} in ${TYPES_DIR}; copy it from ${SHARED_TYPES_DIR}/schemas`);
        continue;
      }
      problems.push(...checkBody(decl.body, schema, file.label, { existing: decl.existing }));
    }
    expect(problems).toEqual([]);
  });

  it("declares each resource where its type can be written (resource group or subscription)", async () => {
    const problems: string[] = [];
    for (const { file, decl, where } of await declarations()) {
      const schema = loadSchema(decl.type, decl.apiVersion);
      if (schema && !schema.scopes.writable.includes(file.targetScope)) problems.push(`${where}: ${decl.type} cannot be written at ${file.targetScope} scope`);
    }
    expect(problems).toEqual([]);
  });

  describe("the property check bites", () => {
    it("on a misspelt property, and says what was meant", async () => {
      const problems = await problemsOf(
        "resource kv 'Microsoft.KeyVault/vaults@2026-02-01' = {\n  name: name\n  location: 'eastus2'\n  properties: {\n    tenantId: tenant().tenantId\n    sku: { family: 'A', name: 'standard' }\n    enableRBACAuthorization: true\n  }\n}",
      );
      expect(problems).toEqual([expect.stringMatching(/properties\.enableRBACAuthorization is not a property .* \(did you mean enableRbacAuthorization\?\)/)]);
    });

    it("on a read-only property, a wrong enum value, a wrong literal type and a missing required property", async () => {
      const problems = await problemsOf(
        "resource st 'Microsoft.Storage/storageAccounts@2026-04-01' = {\n  name: name\n  location: 'eastus2'\n  kind: 'StorageV2'\n  sku: {}\n  properties: {\n    provisioningState: 'Succeeded'\n    accessTier: 'Warm'\n    allowSharedKeyAccess: 'false'\n  }\n}",
      );
      expect(problems).toEqual([
        expect.stringMatching(/sku\.name is required/),
        expect.stringMatching(/properties\.provisioningState is read-only/),
        expect.stringMatching(/properties\.accessTier is 'Warm', not one of Hot, Cool/),
        expect.stringMatching(/properties\.allowSharedKeyAccess is a string, the type says bool/),
      ]);
    });

    it("on a property of another settings variant of Microsoft.Web/sites/config", async () => {
      const problems = await problemsOf(
        "resource web 'Microsoft.Web/sites/config@2025-03-01' = {\n  name: 'web'\n  properties: {\n    minTlsVersion: '1.2'\n    FOO_SETTING: 'x'\n  }\n}",
      );
      expect(problems).toEqual([expect.stringMatching(/properties\.FOO_SETTING is not a property/)]);
    });
  });

  it("has type data identical to the project's shared snapshot, where this checkout has one", () => {
    if (!existsSync(SHARED_TYPES_DIR)) return;
    const files = ["api-versions.json", ...readdirSync(resolve(TYPES_DIR, "schemas")).map((f) => `schemas/${f}`)];
    for (const file of files) {
      expect(readFileSync(resolve(TYPES_DIR, file), "utf8"), file).toBe(readFileSync(resolve(SHARED_TYPES_DIR, file), "utf8"));
    }
  });
});
