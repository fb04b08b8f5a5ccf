import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BicepSyntaxError, loadBicep, modulePath } from "./support/bicep.js";
import { allBicepFiles } from "./support/deployment.js";

/** Every .bicep file parsed with a real Bicep grammar: tree-sitter-bicep, run as WebAssembly. */

describe("Bicep syntax (tree-sitter-bicep)", () => {
  it("parses every .bicep file under infra/ without a syntax error", async () => {
    const files = await allBicepFiles();
    expect(files.map((f) => f.label)).toContain("infra/main.bicep");
    expect(files.length).toBeGreaterThan(5);
  });

  it("reports a syntax error with its place (the check bites)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bicep-"));
    const path = join(dir, "broken.bicep");
    writeFileSync(
      path,
      "param name string\n\nresource x 'Microsoft.Storage/storageAccounts@2026-04-01' = {\n  name: name\n  properties: {\n    minimumTlsVersion 'TLS1_2'\n  }\n}\n",
    );
    await expect(loadBicep(path)).rejects.toThrow(BicepSyntaxError);
    await expect(loadBicep(path)).rejects.toThrow(/broken\.bicep:\d+:\d+/);
  });

  it("targets the subscription from main.bicep and a resource group from every module", async () => {
    for (const file of await allBicepFiles()) {
      expect(file.targetScope, file.label).toBe(file.label === "infra/main.bicep" ? "subscription" : "resourceGroup");
    }
  });

  it("calls only module files that exist", async () => {
    for (const file of await allBicepFiles()) {
      for (const module of file.modules.values()) expect(existsSync(modulePath(file, module)), `${file.label} ${module.symbol}`).toBe(true);
    }
  });
});
