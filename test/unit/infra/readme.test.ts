import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadBicep, REPO_ROOT } from "./support/bicep.js";
import { azdParameters, MAIN_BICEP } from "./support/deployment.js";

/** "Deploy to Azure" (docs/deploy.md, linked from the README) keeps up with the templates. */

const README = readFileSync(resolve(REPO_ROOT, "README.md"), "utf8");
const section = readFileSync(resolve(REPO_ROOT, "docs/deploy.md"), "utf8");

describe("docs/deploy.md: Deploy to Azure", () => {
  it("exists and says how: azd up, and the README points to it", () => {
    expect(section).toMatch(/^# Deploy to Azure\n/);
    expect(section).toContain("azd up");
    expect(README).toContain("](docs/deploy.md)");
    expect(README).toContain("azd up");
  });

  it("documents every parameter of main.bicep and every output azd stores", async () => {
    const main = await loadBicep(MAIN_BICEP);
    expect([...main.params.keys()].filter((name) => !section.includes(`\`${name}\``))).toEqual([]);
    expect([...main.outputs.keys()].filter((name) => !section.includes(`\`${name}\``))).toEqual([]);
  });

  it("names the default model ids and the azd variables that change them", () => {
    const text = readFileSync(resolve(REPO_ROOT, "infra/main.parameters.json"), "utf8");
    for (const [, variable, fallback] of text.matchAll(/\$\{(\w+)(?:=([^}]*))?\}/g)) {
      expect(section, variable).toContain(variable?.replace(/_VERSION$/, "") ?? "");
      if (fallback && !/^(true|false|on|off)$/.test(fallback)) expect(section, `${variable} default`).toContain(fallback);
    }
    const parameters = azdParameters();
    for (const model of [...(parameters.foundryModels as { model: string }[]), ...(parameters.serverlessModels as { model: string }[])]) {
      expect(section).toContain(`\`${model.model}\``);
    }
  });
});
