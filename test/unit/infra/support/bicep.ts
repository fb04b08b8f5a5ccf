import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Language, type Node, Parser } from "web-tree-sitter";

/**
 * Bicep files read with the tree-sitter Bicep grammar (its WebAssembly build: no compiler, no native
 * addon), and their declarations: what the tests check and the evaluator runs.
 */

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
export const INFRA_DIR = resolve(REPO_ROOT, "infra");

const require = createRequire(import.meta.url);
let parser: Promise<Parser> | undefined;

function bicepParser(): Promise<Parser> {
  parser ??= (async () => {
    await Parser.init();
    const language = await Language.load(require.resolve("tree-sitter-bicep/tree-sitter-bicep.wasm"));
    const instance = new Parser();
    instance.setLanguage(language);
    return instance;
  })();
  return parser;
}

export interface Decorator {
  readonly name: string;
  readonly args: readonly Node[];
}

export interface Loop {
  readonly item: string;
  readonly index?: string;
  readonly collection: Node;
  /** The object the loop makes per item (after any `if (...)` filter). */
  readonly body: Node;
  readonly filter?: Node;
}

export interface ParamDecl {
  readonly name: string;
  readonly type: string;
  readonly defaultValue?: Node;
  readonly decorators: readonly Decorator[];
  readonly node: Node;
}

export interface ResourceDecl {
  readonly symbol: string;
  readonly type: string;
  readonly apiVersion: string;
  readonly existing: boolean;
  readonly condition?: Node;
  readonly loop?: Loop;
  /** The resource body (an object), per instance when in a loop. */
  readonly body: Node;
  readonly decorators: readonly Decorator[];
  /** Comments right above the declaration (and its decorators). */
  readonly leadingComments: readonly string[];
  readonly node: Node;
}

export interface ModuleDecl {
  readonly symbol: string;
  readonly path: string;
  readonly condition?: Node;
  readonly body: Node;
  readonly node: Node;
}

export interface OutputDecl {
  readonly name: string;
  readonly type: string;
  readonly value: Node;
  readonly decorators: readonly Decorator[];
}

export interface FuncDecl {
  readonly name: string;
  readonly params: readonly string[];
  readonly body: Node;
}

export interface BicepFile {
  readonly path: string;
  /** Relative to the repository, for messages. */
  readonly label: string;
  readonly targetScope: string;
  readonly params: ReadonlyMap<string, ParamDecl>;
  readonly vars: ReadonlyMap<string, Node>;
  readonly funcs: ReadonlyMap<string, FuncDecl>;
  readonly resources: ReadonlyMap<string, ResourceDecl>;
  readonly modules: ReadonlyMap<string, ModuleDecl>;
  readonly outputs: ReadonlyMap<string, OutputDecl>;
  readonly root: Node;
}

export class BicepSyntaxError extends Error {}

/** Named children without comments (tree-sitter keeps comments in the tree as extras). */
export function kids(node: Node): Node[] {
  return node.namedChildren.filter((child): child is Node => child !== null && child.type !== "comment" && child.type !== "diagnostic_comment");
}

export function at(node: Node, label: string): string {
  return `${label}:${node.startPosition.row + 1}:${node.startPosition.column + 1}`;
}

/** Every syntax error, as file:line:column and the offending text. */
export function syntaxErrors(root: Node, label: string): string[] {
  const errors: string[] = [];
  const visit = (node: Node): void => {
    if (node.isError) errors.push(`${at(node, label)}: unexpected ${JSON.stringify(node.text.slice(0, 60))}`);
    else if (node.isMissing) errors.push(`${at(node, label)}: missing ${node.type}`);
    if (node.hasError) for (const child of node.children) if (child) visit(child);
  };
  visit(root);
  return errors;
}

/** The value of a string literal without interpolation; undefined for anything else. */
export function literalString(node: Node | null | undefined): string | undefined {
  if (node?.type !== "string") return undefined;
  if (node.text.startsWith("'''")) return node.text.slice(3, -3).replace(/^\r?\n/, "");
  let value = "";
  for (const part of kids(node)) {
    if (part.type === "string_content") value += part.text;
    else if (part.type === "escape_sequence") value += unescapeBicep(part.text);
    else return undefined;
  }
  return value;
}

export function unescapeBicep(sequence: string): string {
  const simple: Record<string, string> = { "\\\\": "\\", "\\'": "'", "\\n": "\n", "\\r": "\r", "\\t": "\t", "\\$": "$" };
  const unicode = /^\\u\{([0-9a-fA-F]+)\}$/.exec(sequence);
  if (unicode?.[1]) return String.fromCodePoint(parseInt(unicode[1], 16));
  const value = simple[sequence];
  if (value === undefined) throw new Error(`unknown escape ${sequence}`);
  return value;
}

export interface ObjectEntry {
  /** The key when it is a name or a plain string; undefined when it is interpolated. */
  readonly key?: string;
  readonly keyNode: Node;
  readonly value: Node;
  readonly decorators: readonly Decorator[];
  readonly node: Node;
}

/** The properties of an object literal, in order. */
export function objectEntries(node: Node): ObjectEntry[] {
  const entries: ObjectEntry[] = [];
  let decorators: Decorator[] = [];
  for (const child of kids(node)) {
    if (child.type === "decorators") {
      decorators = decoratorsOf(child);
      continue;
    }
    if (child.type !== "object_property") continue;
    const parts = kids(child);
    const keyNode = parts[0];
    const value = parts[parts.length - 1];
    if (!keyNode || !value || parts.length < 2) throw new Error(`unexpected object property ${child.text}`);
    const key = keyNode.type === "string" ? literalString(keyNode) : keyNode.text;
    entries.push({ ...(key !== undefined ? { key } : {}), keyNode, value, decorators, node: child });
    decorators = [];
  }
  return entries;
}

export function entry(node: Node, key: string): Node | undefined {
  return objectEntries(node).find((e) => e.key === key)?.value;
}

function decoratorsOf(node: Node): Decorator[] {
  return kids(node).map((decorator) => {
    const call = kids(decorator)[0];
    const fn = call?.childForFieldName("function");
    const args = call?.childForFieldName("arguments");
    if (!call || !fn || !args) throw new Error(`unexpected decorator ${decorator.text}`);
    return { name: fn.text.replace(/^sys\./, ""), args: kids(args) };
  });
}

export function loopOf(node: Node): Loop {
  const parameters = kids(node).find((c) => c.type === "for_loop_parameters");
  const initializer = node.childForFieldName("initializer");
  const item = parameters ? kids(parameters).find((c) => c.type === "loop_variable")?.text : initializer?.text;
  const index = parameters ? kids(parameters).find((c) => c.type === "loop_enumerator")?.text : undefined;
  const body = node.childForFieldName("body");
  const inToken = node.children.findIndex((c) => c?.type === "in");
  const collection = node.children.slice(inToken + 1).find((c): c is Node => !!c && c.isNamed && c.type !== "comment");
  if (!item || !body || !collection) throw new Error(`unexpected for expression ${node.text.slice(0, 80)}`);
  if (body.type === "if_statement") {
    const [filter, object] = kids(body);
    if (!filter || !object) throw new Error(`unexpected filtered loop ${body.text.slice(0, 80)}`);
    return { item, ...(index ? { index } : {}), collection, body: object, filter };
  }
  return { item, ...(index ? { index } : {}), collection, body };
}

/** A declaration's target: the object, or the condition and object, or the loop. */
function targetOf(node: Node): { body: Node; condition?: Node; loop?: Loop } {
  const target = kids(node).find((c) => c.type === "object" || c.type === "if_statement" || c.type === "for_statement");
  if (!target) throw new Error(`no body in ${node.text.slice(0, 80)}`);
  if (target.type === "object") return { body: target };
  if (target.type === "if_statement") {
    const [condition, body] = kids(target);
    if (!condition || !body) throw new Error(`unexpected condition ${target.text.slice(0, 80)}`);
    return { body, condition };
  }
  const loop = loopOf(target);
  return { body: loop.body, loop };
}

const cache = new Map<string, Promise<BicepFile>>();

/** Parses a Bicep file (once); throws BicepSyntaxError listing every syntax error. */
export function loadBicep(path: string): Promise<BicepFile> {
  const absolute = resolve(path);
  let file = cache.get(absolute);
  if (!file) {
    file = parseBicep(absolute);
    cache.set(absolute, file);
  }
  return file;
}

async function parseBicep(path: string): Promise<BicepFile> {
  const label = relative(REPO_ROOT, path);
  const source = readFileSync(path, "utf8");
  const tree = (await bicepParser()).parse(source);
  if (!tree) throw new BicepSyntaxError(`${label}: the parser returned nothing`);
  const root = tree.rootNode;
  const errors = syntaxErrors(root, label);
  if (errors.length > 0) throw new BicepSyntaxError(errors.join("\n"));

  const params = new Map<string, ParamDecl>();
  const vars = new Map<string, Node>();
  const funcs = new Map<string, FuncDecl>();
  const resources = new Map<string, ResourceDecl>();
  const modules = new Map<string, ModuleDecl>();
  const outputs = new Map<string, OutputDecl>();
  let targetScope = "resourceGroup";
  let decorators: Decorator[] = [];
  let comments: string[] = [];
  const declare = <T>(map: Map<string, T>, name: string, value: T, node: Node): void => {
    if (map.has(name)) throw new BicepSyntaxError(`${at(node, label)}: ${name} is declared twice`);
    map.set(name, value);
  };

  let lastCommentRow = -1;
  for (const node of root.namedChildren) {
    if (!node) continue;
    // Only the comment lines right above a declaration (or its decorators) belong to it.
    if (comments.length > 0 && node.startPosition.row > lastCommentRow + 1) comments = [];
    if (node.type === "comment") {
      comments.push(node.text);
      lastCommentRow = node.endPosition.row;
      continue;
    }
    if (node.type === "decorators") {
      decorators = decoratorsOf(node);
      lastCommentRow = node.endPosition.row;
      continue;
    }
    const parts = kids(node);
    const name = parts.find((c) => c.type === "identifier")?.text ?? "";
    switch (node.type) {
      case "target_scope_assignment":
        targetScope = literalString(parts[0]) ?? "";
        break;
      case "parameter_declaration": {
        const type = parts.find((c) => c.type === "type");
        const defaultValue = type ? parts.slice(parts.indexOf(type) + 1)[0] : undefined;
        declare(params, name, { name, type: type?.text ?? "", ...(defaultValue ? { defaultValue } : {}), decorators, node }, node);
        break;
      }
      case "variable_declaration":
        declare(vars, name, parts[parts.length - 1] as Node, node);
        break;
      case "user_defined_function": {
        const fnParams = kids(kids(node).find((c) => c.type === "parameters") as Node).map((p) => kids(p)[0]?.text ?? "");
        declare(
          funcs,
          node.childForFieldName("name")?.text ?? "",
          { name: node.childForFieldName("name")?.text ?? "", params: fnParams, body: parts[parts.length - 1] as Node },
          node,
        );
        break;
      }
      case "resource_declaration": {
        const typeRef = literalString(parts.find((c) => c.type === "string"));
        const [type = "", apiVersion = ""] = (typeRef ?? "").split("@");
        const existing = node.children.some((c) => c?.type === "existing");
        declare(resources, name, { symbol: name, type, apiVersion, existing, ...targetOf(node), decorators, leadingComments: comments, node }, node);
        break;
      }
      case "module_declaration": {
        const path = literalString(parts.find((c) => c.type === "string")) ?? "";
        const target = targetOf(node);
        if (target.loop) throw new BicepSyntaxError(`${at(node, label)}: module loops are not supported by these tests`);
        declare(modules, name, { symbol: name, path, body: target.body, ...(target.condition ? { condition: target.condition } : {}), node }, node);
        break;
      }
      case "output_declaration": {
        const type = parts.find((c) => c.type === "type");
        declare(outputs, name, { name, type: type?.text ?? "", value: parts[parts.length - 1] as Node, decorators }, node);
        break;
      }
      default:
        break;
    }
    decorators = [];
    comments = [];
  }
  return { path, label, targetScope, params, vars, funcs, resources, modules, outputs, root };
}

/** The module file a module declaration names, resolved from the declaring file. */
export function modulePath(file: BicepFile, module: ModuleDecl): string {
  return resolve(dirname(file.path), module.path);
}

/** Every node below `node` (itself included) for which `match` holds. */
export function findAll(node: Node, match: (n: Node) => boolean): Node[] {
  const found: Node[] = [];
  const visit = (n: Node): void => {
    if (match(n)) found.push(n);
    for (const child of n.namedChildren) if (child) visit(child);
  };
  visit(node);
  return found;
}

/** The node at a dotted path of object keys, e.g. `properties.siteConfig.cors`, or undefined. */
export function valueAt(node: Node, path: string): Node | undefined {
  let current: Node | undefined = node;
  for (const key of path.split(".")) {
    if (current?.type !== "object") return undefined;
    current = entry(current, key);
  }
  return current;
}

/** A resource declaration by type, in a file; throws unless there is exactly one. */
export function onlyResource(file: BicepFile, type: string): ResourceDecl {
  const found = [...file.resources.values()].filter((r) => r.type === type && !r.existing);
  if (found.length !== 1) throw new Error(`${file.label}: expected one ${type}, found ${found.length}`);
  return found[0] as ResourceDecl;
}
