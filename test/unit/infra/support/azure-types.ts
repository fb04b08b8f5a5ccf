import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Node } from "web-tree-sitter";
import { at, kids, literalString, loopOf, objectEntries, REPO_ROOT } from "./bicep.js";

/** The type data the tests read (a copy of the shared snapshot, see its README). */
export const TYPES_DIR = resolve(REPO_ROOT, "test/unit/infra/azure-types");
/** The project's shared snapshot, when this checkout has it next to it. */
export const SHARED_TYPES_DIR = resolve(REPO_ROOT, "../shared/azure-types");

export interface SchemaNode {
  readonly type: "string" | "int" | "bool" | "object" | "array" | "union" | "any";
  readonly required?: boolean;
  readonly readOnly?: boolean;
  readonly enum?: readonly string[];
  readonly enumOpen?: boolean;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly minValue?: number;
  readonly maxValue?: number;
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly additionalProperties?: SchemaNode;
  readonly discriminator?: string;
  /** Object variants by discriminator value, or (for unions) the alternatives. */
  readonly variants?: Readonly<Record<string, SchemaNode>> | readonly SchemaNode[];
  readonly items?: SchemaNode;
  readonly truncated?: boolean;
}

export interface ResourceSchema {
  readonly type: string;
  readonly apiVersion: string;
  readonly scopes: { readonly writable: readonly string[] };
  readonly properties: Readonly<Record<string, SchemaNode>>;
  readonly discriminator?: string;
  readonly variants?: Readonly<Record<string, SchemaNode>>;
}

export const apiVersions: Readonly<Record<string, readonly string[]>> = JSON.parse(readFileSync(resolve(TYPES_DIR, "api-versions.json"), "utf8"));

/**
 * Types the snapshot of Azure's type data in this folder does not hold. The real compiler carries them
 * all and checks their properties (any warning fails `npm run infra:check` and compiler.test.ts), so
 * the structural checks here leave them to it.
 */
export const CHECKED_BY_COMPILER: ReadonlySet<string> = new Set([
  "Microsoft.Web/sites/basicPublishingCredentialsPolicies",
  "Microsoft.Web/customApis",
  "Microsoft.Web/staticSites",
]);

/** The type as the data spells it (ARM type names are case-insensitive), or undefined. */
export function knownType(type: string): string | undefined {
  return Object.keys(apiVersions).find((t) => t.toLowerCase() === type.toLowerCase());
}

export function schemaFileName(type: string, apiVersion: string): string {
  return `${type.replaceAll("/", "_")}@${apiVersion}.json`;
}

export function loadSchema(type: string, apiVersion: string): ResourceSchema | undefined {
  const path = resolve(TYPES_DIR, "schemas", schemaFileName(type, apiVersion));
  return existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as ResourceSchema) : undefined;
}

/** Stable API versions, newest first. */
export function stableVersions(type: string): string[] {
  return [...(apiVersions[type] ?? [])]
    .filter((v) => !v.endsWith("-preview"))
    .sort()
    .reverse();
}

/** Bicep's own keys in a resource body; not part of the resource type. */
const BICEP_KEYS = new Set(["parent", "scope", "dependsOn"]);

function allowedProperties(schema: SchemaNode, body: Node): Record<string, SchemaNode> {
  const allowed: Record<string, SchemaNode> = { ...schema.properties };
  if (schema.discriminator && schema.variants && !Array.isArray(schema.variants)) {
    const variants = schema.variants as Readonly<Record<string, SchemaNode>>;
    const chosen = literalString(objectEntries(body).find((e) => e.key === schema.discriminator)?.value);
    const picked = chosen !== undefined ? [variants[chosen]] : Object.values(variants);
    for (const variant of picked) Object.assign(allowed, variant?.properties ?? {});
  }
  return allowed;
}

function typeOfLiteral(node: Node): SchemaNode["type"] | undefined {
  switch (node.type) {
    case "string":
      return "string";
    case "number":
      return "int";
    case "boolean":
      return "bool";
    case "object":
      return "object";
    case "array":
    case "for_statement":
      return "array";
    default:
      return undefined;
  }
}

/**
 * Walks a resource body alongside its schema: every key must exist (and not be read-only), literal values
 * must have the right type, closed enums their listed values, strings their lengths and patterns, and
 * required properties must be there. Expressions are not evaluated here, so their values go unchecked.
 */
export function checkBody(body: Node, schema: ResourceSchema, label: string, options: { existing: boolean }): string[] {
  const problems: string[] = [];
  const root: SchemaNode = {
    type: "object",
    properties: schema.properties,
    ...(schema.discriminator ? { discriminator: schema.discriminator } : {}),
    ...(schema.variants ? { variants: schema.variants } : {}),
  };

  const checkValue = (value: Node, node: SchemaNode, path: string): void => {
    if (node.type === "any" || node.type === "union" || node.truncated) return;
    if (value.type === "ternary_expression") {
      checkValue(value.childForFieldName("consequence") as Node, node, path);
      checkValue(value.childForFieldName("alternative") as Node, node, path);
      return;
    }
    if (value.type === "parenthesized_expression") return checkValue(kids(value)[0] as Node, node, path);
    const literal = typeOfLiteral(value);
    if (literal === undefined) return; // an expression: its value is not known here
    if (literal !== node.type) {
      problems.push(`${at(value, label)}: ${path} is ${literal === "int" ? "a number" : `a ${literal}`}, the type says ${node.type}`);
      return;
    }
    switch (literal) {
      case "string": {
        const text = literalString(value);
        if (text === undefined) return;
        if (node.enum && !node.enumOpen && !node.enum.includes(text))
          problems.push(`${at(value, label)}: ${path} is '${text}', not one of ${node.enum.join(", ")}`);
        if (node.minLength !== undefined && text.length < node.minLength) problems.push(`${at(value, label)}: ${path} is shorter than ${node.minLength}`);
        if (node.maxLength !== undefined && text.length > node.maxLength) problems.push(`${at(value, label)}: ${path} is longer than ${node.maxLength}`);
        if (node.pattern && !new RegExp(node.pattern).test(text)) problems.push(`${at(value, label)}: ${path} does not match ${node.pattern}`);
        return;
      }
      case "int": {
        const number = Number(value.text);
        if ((node.minValue !== undefined && number < node.minValue) || (node.maxValue !== undefined && number > node.maxValue)) {
          problems.push(`${at(value, label)}: ${path} is ${number}, outside ${node.minValue ?? "-∞"}..${node.maxValue ?? "∞"}`);
        }
        return;
      }
      case "array": {
        if (!node.items) return;
        const items = value.type === "for_statement" ? [loopOf(value).body] : kids(value).filter((c) => c.type !== "decorators");
        for (const item of items) checkValue(item, node.items, `${path}[]`);
        return;
      }
      case "object":
        checkObject(value, node, path);
        return;
      default:
        return;
    }
  };

  const checkObject = (value: Node, node: SchemaNode, path: string): void => {
    const allowed = allowedProperties(node, value);
    const entries = objectEntries(value);
    for (const e of entries) {
      if (path === "" && e.key !== undefined && BICEP_KEYS.has(e.key)) continue;
      const where = path ? `${path}.${e.key ?? e.keyNode.text}` : (e.key ?? e.keyNode.text);
      const property = e.key !== undefined ? allowed[e.key] : undefined;
      if (!property) {
        if (node.additionalProperties) {
          checkValue(e.value, node.additionalProperties, where);
          continue;
        }
        const near = e.key && Object.keys(allowed).find((k) => k.toLowerCase() === e.key?.toLowerCase());
        problems.push(`${at(e.keyNode, label)}: ${where} is not a property of ${schema.type}@${schema.apiVersion}${near ? ` (did you mean ${near}?)` : ""}`);
        continue;
      }
      if (property.readOnly) {
        problems.push(`${at(e.keyNode, label)}: ${where} is read-only`);
        continue;
      }
      checkValue(e.value, property, where);
    }
    if (options.existing) return;
    const present = new Set(entries.map((e) => e.key));
    for (const [name, property] of Object.entries(allowed)) {
      if (property.required && !property.readOnly && !present.has(name)) {
        problems.push(`${at(value, label)}: ${path ? `${path}.` : ""}${name} is required by ${schema.type}@${schema.apiVersion}`);
      }
    }
  };

  checkObject(body, root, "");
  return problems;
}
