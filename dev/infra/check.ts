import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { ensureBicep, REPO_ROOT, runBicep } from "./bicep-cli.js";

/**
 * `npm run infra:check`: the real Bicep compiler over infra/. It builds main.bicep, builds the
 * parameters azd would pass for each hosting option (main.parameters.json with azd's `${VAR=default}`
 * filled in as a fresh environment would have them), and lints every .bicep file with
 * infra/bicepconfig.json, where every linter rule is an error. Any diagnostic, a warning included,
 * fails the check; so does a compiler that cannot be had. The compiled template is left in
 * dist/infra/main.json for the tests.
 */
const HOSTING_OPTIONS = ["foundry", "serverless"] as const;
/** What a fresh `azd env new` + `azd up` sets; the rest take main.parameters.json's defaults. */
const AZD_ENVIRONMENT: Record<string, string> = { AZURE_ENV_NAME: "check", AZURE_LOCATION: "swedencentral" };

function main(): void {
  let bicep: string;
  try {
    bicep = ensureBicep();
  } catch (error) {
    console.error(`infra:check: the Bicep compiler could not be had: ${(error as Error).message}`);
    process.exit(1);
  }
  console.log(runBicep(bicep, ["--version"]).stdout.trim());
  const failures: string[] = [];
  const step = (name: string, args: string[]) => {
    const run = runBicep(bicep, args);
    const diagnostics = run.stderr.trim();
    const ok = run.status === 0 && diagnostics === "";
    console.log(`${ok ? "ok  " : "FAIL"} ${name}${diagnostics ? `\n${indent(diagnostics)}` : ""}`);
    if (!ok) failures.push(name);
    return run;
  };

  const out = join(REPO_ROOT, "dist", "infra");
  mkdirSync(out, { recursive: true });
  step("build infra/main.bicep", ["build", "infra/main.bicep", "--outfile", join(out, "main.json")]);

  // Beside main.bicep: a .bicepparam file names its template by a relative path.
  const scratch = mkdtempSync(join(REPO_ROOT, "infra", ".check-"));
  try {
    for (const option of HOSTING_OPTIONS) {
      const file = join(scratch, `${option}.bicepparam`);
      writeFileSync(file, bicepParams("../main.bicep", { ...AZD_ENVIRONMENT, MODEL_HOSTING: option }));
      step(`build-params main.parameters.json, modelHosting=${option}`, ["build-params", file, "--outfile", join(out, `main.parameters.${option}.json`)]);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  step("lint infra/**/*.bicep (every rule an error)", ["lint", "--pattern", "infra/**/*.bicep"]);

  if (failures.length > 0) {
    console.error(`\ninfra:check failed: ${failures.join("; ")}`);
    process.exit(1);
  }
  console.log(`\ninfra:check passed: no errors or warnings (${relative(REPO_ROOT, out)}/main.json written)`);
}

/**
 * main.parameters.json as a .bicepparam file, with azd's `${NAME}` and `${NAME=default}` filled in
 * from `env` (azd leaves an unset name without a default empty).
 */
export function bicepParams(template: string, env: Record<string, string>): string {
  const parameters = JSON.parse(readFileSync(join(REPO_ROOT, "infra", "main.parameters.json"), "utf8")).parameters as Record<string, { value: unknown }>;
  const filled = JSON.parse(
    JSON.stringify(parameters).replace(/\$\{([A-Z0-9_]+)(?:=([^}]*))?\}/g, (_all, name: string, fallback?: string) => env[name] ?? fallback ?? ""),
  ) as Record<string, { value: unknown }>;
  const lines = [`using '${template}'`, ""];
  for (const [name, { value }] of Object.entries(filled)) lines.push(`param ${name} = ${bicepValue(value)}`);
  return `${lines.join("\n")}\n`;
}

/** A JSON value as a Bicep literal. azd passes every `${...}` as a string; the template converts where it must. */
function bicepValue(value: unknown): string {
  if (typeof value === "string") return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (value === null) return "null";
  if (Array.isArray(value)) return `[\n${value.map((item) => `  ${bicepValue(item)}`).join("\n")}\n]`;
  return `{\n${Object.entries(value as Record<string, unknown>)
    .map(([key, item]) => `  ${key}: ${bicepValue(item)}`)
    .join("\n")}\n}`;
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => `     ${line.replace(`${REPO_ROOT}/`, "")}`)
    .join("\n");
}

if (require.main === module) main();
