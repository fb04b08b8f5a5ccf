import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { type BicepFile, INFRA_DIR, loadBicep, objectEntries, type ResourceDecl } from "./bicep.js";
import { evaluate, FileContext, type Scope, type Value } from "./evaluate.js";

/**
 * What azd would deploy: infra/main.parameters.json with azd's `${NAME}` / `${NAME=default}` substitution
 * from an environment, main.bicep evaluated with those parameters, and every resource of every module
 * that deployment creates.
 */

export const MAIN_BICEP = resolve(INFRA_DIR, "main.bicep");
export const MAIN_PARAMETERS = resolve(INFRA_DIR, "main.parameters.json");

/** The values azd sets itself for a new environment. */
export const AZD_ENV: Readonly<Record<string, string>> = {
  AZURE_ENV_NAME: "dev",
  AZURE_LOCATION: "eastus2",
  AZURE_PRINCIPAL_ID: "11111111-2222-3333-4444-555555555555",
  AZURE_SUBSCRIPTION_ID: "00000000-0000-0000-0000-000000000001",
};

/** azd's substitution: `${NAME}` is the variable or empty, `${NAME=default}` the variable or the default. */
export function substitute(text: string, env: Readonly<Record<string, string | undefined>>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:=([^}]*))?\}/g, (_, name: string, fallback: string | undefined) => env[name] ?? fallback ?? "");
}

export function parametersFile(): { parameters: Record<string, { value: unknown }> } {
  return JSON.parse(readFileSync(MAIN_PARAMETERS, "utf8"));
}

/** The parameter values azd passes to main.bicep, for an environment. */
export function azdParameters(env: Readonly<Record<string, string | undefined>> = AZD_ENV): Record<string, Value> {
  const substituted = JSON.parse(substitute(readFileSync(MAIN_PARAMETERS, "utf8"), env)) as { parameters: Record<string, { value: Value }> };
  return Object.fromEntries(Object.entries(substituted.parameters).map(([name, p]) => [name, p.value]));
}

export interface ResourceInstance {
  readonly context: FileContext;
  readonly decl: ResourceDecl;
  readonly index?: number;
  /** Where its body is evaluated: its file, and its loop variables. */
  readonly scope: Scope;
  /** The evaluated `name` (the last segment for child resources). */
  readonly name: Value;
  /** Where it is declared, and which one of a loop. */
  readonly label: string;
}

export interface Deployment {
  readonly main: FileContext;
  readonly resources: readonly ResourceInstance[];
  /** Every module call, with its evaluated deployment `name`. */
  readonly modules: readonly { readonly label: string; readonly name: Value }[];
  /** Every file the deployment uses. */
  readonly files: readonly BicepFile[];
}

/**
 * What a deployment with these parameters creates. With `everyDeclaration`, every resource and module
 * declared, whether or not its condition holds (what ARM validates, names and scopes included).
 */
export async function deploy(parameters: Readonly<Record<string, Value>> = azdParameters(), options: { everyDeclaration?: boolean } = {}): Promise<Deployment> {
  const everyDeclaration = options.everyDeclaration === true;
  const main = await FileContext.create(await loadBicep(MAIN_BICEP), parameters, { everyModule: everyDeclaration });
  const resources: ResourceInstance[] = [];
  const modules: { label: string; name: Value }[] = [];
  const files = new Map<string, BicepFile>();
  const visit = (context: FileContext): void => {
    files.set(context.file.path, context.file);
    for (const [symbol, decl] of context.file.modules) {
      if (!context.modules.has(symbol)) continue;
      const nameNode = objectEntries(decl.body).find((e) => e.key === "name")?.value;
      modules.push({ label: `${context.file.label} module ${symbol}`, name: nameNode ? evaluate(nameNode, context.scope()) : null });
    }
    for (const decl of context.file.resources.values()) {
      if (!everyDeclaration && decl.condition && context.evaluate(decl.condition, context.scope()) !== true) continue;
      const nameNode = objectEntries(decl.body).find((e) => e.key === "name")?.value;
      if (!nameNode) throw new Error(`${context.file.label}: ${decl.symbol} has no name`);
      const label = `${context.file.label} ${decl.symbol}`;
      if (!decl.loop) {
        resources.push({ context, decl, scope: context.scope(), name: evaluate(nameNode, context.scope()), label });
        continue;
      }
      const collection = context.evaluate(decl.loop.collection, context.scope());
      if (!Array.isArray(collection)) throw new Error(`${label}: loops over a list not known before deployment`);
      collection.forEach((item, index) => {
        const locals = new Map<string, Value>([[decl.loop?.item ?? "", item]]);
        if (decl.loop?.index) locals.set(decl.loop.index, index);
        const scope = context.scope(locals);
        if (decl.loop?.filter && evaluate(decl.loop.filter, scope) !== true) return;
        resources.push({ context, decl, index, scope, name: evaluate(nameNode, scope), label: `${label}[${index}]` });
      });
    }
    for (const module of context.modules.values()) visit(module);
  };
  visit(main);
  return { main, resources, modules, files: [...files.values()] };
}

/** Every Bicep file under infra/, whether or not a deployment uses it. */
export async function allBicepFiles(): Promise<BicepFile[]> {
  const paths: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = resolve(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".bicep")) paths.push(path);
    }
  };
  walk(INFRA_DIR);
  return Promise.all(paths.sort().map((p) => loadBicep(p)));
}
