import { existsSync, readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { Ajv2019, type ErrorObject } from "ajv/dist/2019.js";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { REPO_ROOT } from "./support/bicep.js";

/**
 * azure.yaml checked against azd's own JSON schema for it. test/fixtures/azd/azure.yaml.json is an unchanged
 * copy of schemas/v1.0/azure.yaml.json from Azure/azure-dev; its README gives the commit. It is the schema
 * that azure.yaml's `# yaml-language-server: $schema=` line names. The tests check that azure.yaml is valid,
 * that copies with mistakes are refused (so the schema is really applied), and what this project's azure.yaml
 * must say, which the schema leaves open.
 */

type Doc = Record<string, any>;

const SCHEMA_FILE = "test/fixtures/azd/azure.yaml.json";
const schema = JSON.parse(readFileSync(resolve(REPO_ROOT, SCHEMA_FILE), "utf8")) as Doc;
const azureYamlText = readFileSync(resolve(REPO_ROOT, "azure.yaml"), "utf8");
const azureYaml = parse(azureYamlText) as Doc;

/** `$ref`s to schemas outside the copy: the azd extensions' own service schemas, not copied. */
const externalRefs = new Set<string>();
JSON.stringify(schema, (key, value) => {
  if (key === "$ref" && typeof value === "string" && !value.startsWith("#")) externalRefs.add(value);
  return value;
});

const ajv = new Ajv2019({ strict: false, allErrors: true });
// Refuse everything, so that a service using one of those hosts fails until its schema is copied too.
for (const ref of externalRefs) ajv.addSchema(false, ref);
const validateAzureYaml = ajv.compile(schema);

function validate(doc: unknown): ErrorObject[] {
  return validateAzureYaml(doc) ? [] : [...(validateAzureYaml.errors ?? [])];
}

function show(errors: readonly ErrorObject[]): string {
  return errors.map((e) => `${e.instancePath || "/"} ${e.message ?? ""} ${JSON.stringify(e.params)} (${e.schemaPath})`).join("\n");
}

/** A parsed copy of azure.yaml, changed by `change`. */
function changed(change: (doc: Doc) => void): Doc {
  const copy = structuredClone(azureYaml);
  change(copy);
  return copy;
}

interface Hook {
  run?: string;
  posix?: Hook;
  windows?: Hook;
}

/** Every `run` of an azure.yaml hooks map (a hook or a list of hooks, each possibly with posix and windows forms). */
function hookRuns(hooks: Record<string, Hook | Hook[]> | undefined): { name: string; run: string }[] {
  return Object.entries(hooks ?? {}).flatMap(([name, value]) =>
    [value]
      .flat()
      .flatMap((hook) => [hook.run, hook.posix?.run, hook.windows?.run])
      .filter((run): run is string => run !== undefined)
      .map((run) => ({ name, run })),
  );
}

/** The script files a hook command names: `node hooks/x.mjs`, or a path to a script on its own. */
function scriptsOf(run: string): string[] {
  return run.split(/\s+/).filter((word) => /^[\w./-]+\.(mjs|cjs|js|ts|sh|ps1|py)$/.test(word));
}

describe("azure.yaml against azd's JSON schema", () => {
  it("uses the copy of the schema its yaml-language-server line names: v1.0, JSON Schema draft 2019-09", () => {
    const named = /^# yaml-language-server: \$schema=(\S+)$/m.exec(azureYamlText)?.[1];
    expect(named).toBe("https://raw.githubusercontent.com/Azure/azure-dev/main/schemas/v1.0/azure.yaml.json");
    expect(schema.$id).toBe(named);
    expect(schema.$schema).toBe("https://json-schema.org/draft/2019-09/schema");
    // Only the azd extensions' azure.ai.* and microsoft.foundry hosts are defined outside the copy.
    expect(externalRefs.size).toBeGreaterThan(0);
    for (const ref of externalRefs) expect(ref).toMatch(/^https:\/\/raw\.githubusercontent\.com\/Azure\/azure-dev\/[^/]+(\/[^/]+)*\/cli\/azd\/extensions\//);
  });

  it("is valid", () => {
    const errors = validate(azureYaml);
    expect(errors, show(errors)).toEqual([]);
  });

  // Each mistake is refused, with an error at the place changed: the rule really applies.
  const mistakes: [string, (doc: Doc) => void, string][] = [
    [
      "the host misspelled (`functions`) while remoteBuild is set: remoteBuild is for function hosts only",
      (doc) => {
        doc.services.api.host = "functions";
      },
      "/services/api/remoteBuild",
    ],
    [
      "the service with a container image: function hosts deploy a project, not an image",
      (doc) => {
        doc.services.api.image = "mistral-functions:latest";
      },
      "/services/api/image",
    ],
    [
      "the service without a host",
      (doc) => {
        delete doc.services.api.host;
      },
      "/services/api",
    ],
    [
      "remoteBuild as a string",
      (doc) => {
        doc.services.api.remoteBuild = "false";
      },
      "/services/api/remoteBuild",
    ],
    [
      "a service hook azd does not have (`prepakage`)",
      (doc) => {
        doc.services.api.hooks = { prepakage: doc.services.api.hooks.prepackage };
      },
      "/services/api/hooks",
    ],
    [
      "a command hook azd does not have (`postprovison`)",
      (doc) => {
        doc.hooks = { postprovison: doc.hooks.postprovision };
      },
      "/hooks",
    ],
    [
      "a hook shell azd does not know (`bash`)",
      (doc) => {
        doc.hooks.postprovision.posix.shell = "bash";
      },
      "/hooks/postprovision/posix/shell",
    ],
    [
      "a hook with `run` beside its posix and windows forms",
      (doc) => {
        doc.hooks.postprovision.run = "node hooks/postprovision.mjs";
      },
      "/hooks/postprovision/run",
    ],
    [
      "a name azd refuses (capitals)",
      (doc) => {
        doc.name = "Mistral-Functions";
      },
      "/name",
    ],
    [
      "an infra provider that is not a provider name (`Bicep`)",
      (doc) => {
        doc.infra.provider = "Bicep";
      },
      "/infra/provider",
    ],
    [
      "no services",
      (doc) => {
        doc.services = {};
      },
      "/services",
    ],
  ];

  it.each(mistakes)("refuses a copy with %s", (_, change, at) => {
    const errors = validate(changed(change));
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.map((e) => e.instancePath)).toContain(at);
  });

  it("leaves the host, the language and unknown service keys open: the checks below hold those", () => {
    // In this version of the schema `host` and `language` list examples, not an enum, and services allow other keys.
    for (const change of [
      (doc: Doc) => {
        delete doc.services.api.remoteBuild;
        doc.services.api.host = "functions";
      },
      (doc: Doc) => {
        doc.services.api.language = "typescript";
      },
      (doc: Doc) => {
        doc.services.api.langauge = doc.services.api.language;
        delete doc.services.api.language;
      },
    ]) {
      expect(validate(changed(change))).toEqual([]);
    }
  });
});

describe("azure.yaml for this project", () => {
  const services = (azureYaml.services ?? {}) as Record<string, Doc>;
  const api = services.api ?? {};
  const serviceSchema = schema.properties.services.additionalProperties.properties;

  it("deploys two services: api as a TypeScript function app, web (the chat page) as a Static Web App", () => {
    expect(Object.keys(services)).toEqual(["api", "web"]);
    expect(api).toMatchObject({ host: "function", language: "ts" });
    expect(services.web).toMatchObject({ host: "staticwebapp", language: "js", project: ".", dist: ".deploy-web" });
    // Spelled as azd spells them: among the schema's own host and language values.
    for (const service of Object.values(services)) {
      expect(serviceSchema.host.examples).toContain(service.host);
      expect(serviceSchema.language.examples).toContain(service.language);
    }
  });

  it("deploys each service to the resource the Bicep tags with its name", () => {
    const bicep = ["function-app.bicep", "static-web-app.bicep"].map((file) => readFileSync(resolve(REPO_ROOT, "infra/modules", file), "utf8")).join("\n");
    for (const name of Object.keys(services)) expect(bicep).toContain(`'azd-service-name': '${name}'`);
  });

  it("builds the project at its `project` path, a folder holding the Functions app (host.json, package.json)", () => {
    expect(api.project).toBe(".");
    const projectDir = resolve(REPO_ROOT, api.project);
    expect(statSync(projectDir).isDirectory()).toBe(true);
    for (const file of ["host.json", "package.json"]) expect(existsSync(resolve(projectDir, file)), file).toBe(true);
  });

  it("runs hook scripts that exist (command hooks from the root, service hooks from the service's project)", () => {
    const runs = [
      ...hookRuns(azureYaml.hooks).map((r) => ({ ...r, dir: REPO_ROOT })),
      ...Object.values(services).flatMap((service) => hookRuns(service.hooks).map((r) => ({ ...r, dir: resolve(REPO_ROOT, service.project ?? ".") }))),
    ];
    expect(runs.length).toBeGreaterThan(0);
    for (const { name, run, dir } of runs) {
      const scripts = scriptsOf(run);
      expect(scripts, `${name}: ${run} names no script file`).not.toEqual([]);
      for (const script of scripts) expect(existsSync(resolve(dir, script)), `${name}: ${script}`).toBe(true);
    }
  });

  it("runs the hooks docs/deploy.md describes", () => {
    const docs = readFileSync(resolve(REPO_ROOT, "docs/deploy.md"), "utf8");
    const named = [...docs.matchAll(/The `((?:pre|post)\w+)` hook/g)].map((m) => m[1] as string);
    const scripts = [...docs.matchAll(/`(hooks\/[\w.-]+\.mjs)`/g)].map((m) => m[1] as string);
    expect(named).toEqual(expect.arrayContaining(["prepackage", "postprovision"]));
    const hooks = [hookRuns(azureYaml.hooks), ...Object.values(services).map((service) => hookRuns(service.hooks))].flat();
    for (const name of named)
      expect(
        hooks.map((h) => h.name),
        name,
      ).toContain(name);
    for (const script of scripts)
      expect(
        hooks.flatMap((h) => scriptsOf(h.run)),
        script,
      ).toContain(script);
  });
});
