import { createHash, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Node } from "web-tree-sitter";
import {
  at,
  type BicepFile,
  kids,
  literalString,
  loadBicep,
  loopOf,
  type ModuleDecl,
  modulePath,
  objectEntries,
  type ResourceDecl,
  unescapeBicep,
} from "./bicep.js";

/**
 * A small evaluator for the Bicep this repository writes, so tests can compute what a deployment would
 * set (resource names, app settings) for given parameters. Values only Azure knows at deployment time
 * (resource ids, keys, endpoints) are `Unknown`; inside strings they show as ⟨expression⟩. Functions it
 * does not know are an error, so a test never passes on a guess.
 */

export class Unknown {
  constructor(readonly text: string) {}
}

export class Lambda {
  constructor(
    readonly params: readonly string[],
    readonly body: Node,
    readonly scope: Scope,
  ) {}
}

/** A resource symbol (a collection when declared in a loop, unless `index` picks one). */
export class ResourceRef {
  constructor(
    readonly context: FileContext,
    readonly decl: ResourceDecl,
    readonly index?: number,
  ) {}
}

export class ModuleRef {
  constructor(
    readonly context: FileContext,
    readonly decl: ModuleDecl,
  ) {}
}

/** `module.outputs`, read one output at a time. */
export class ModuleOutputs {
  constructor(readonly ref: ModuleRef) {}
}

export type Value = string | number | boolean | null | Value[] | { [key: string]: Value } | Unknown | Lambda | ResourceRef | ModuleRef | ModuleOutputs;

export class EvaluationError extends Error {}

export interface Scope {
  readonly context: FileContext;
  readonly locals: ReadonlyMap<string, Value>;
}

export const PLACEHOLDER_SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000001";
export const PLACEHOLDER_TENANT_ID = "00000000-0000-0000-0000-000000000002";

/** One file being evaluated with its parameter values; module calls make more. */
export class FileContext {
  readonly #vars = new Map<string, Value>();
  readonly #evaluating = new Set<string>();

  private constructor(
    readonly file: BicepFile,
    readonly params: Readonly<Record<string, Value>>,
    readonly modules: ReadonlyMap<string, FileContext>,
  ) {}

  /**
   * Loads `file` and, recursively, every module it calls whose condition holds, with their parameters
   * evaluated: module files are parsed asynchronously once, then evaluation is synchronous. With
   * `everyModule`, the modules whose condition does not hold too: ARM validates the names and scopes of
   * resources it does not deploy, so a test must be able to evaluate them.
   */
  static async create(file: BicepFile, given: Readonly<Record<string, Value>>, options: { everyModule?: boolean } = {}): Promise<FileContext> {
    const params: Record<string, Value> = {};
    for (const name of Object.keys(given)) {
      if (!file.params.has(name)) throw new EvaluationError(`${file.label}: no parameter ${name}`);
    }
    const modules = new Map<string, FileContext>();
    const context = new FileContext(file, params, modules);
    for (const name of file.params.keys()) {
      if (name in given) params[name] = given[name] as Value;
    }
    for (const [name, decl] of file.params) {
      if (name in given) continue;
      if (!decl.defaultValue) throw new EvaluationError(`${file.label}: parameter ${name} has no value and no default`);
      params[name] = context.evaluate(decl.defaultValue, context.scope());
    }
    for (const [symbol, decl] of file.modules) {
      if (decl.condition) {
        const deployed = context.evaluate(decl.condition, context.scope());
        if (typeof deployed !== "boolean") throw new EvaluationError(`${file.label}: the condition of module ${symbol} is not known before deployment`);
        if (!deployed && !options.everyModule) continue;
      }
      const moduleParams = context.evaluate(requiredEntry(decl.body, "params", file), context.scope());
      if (!isObject(moduleParams)) throw new EvaluationError(`${file.label}: params of module ${symbol} are not an object`);
      modules.set(symbol, await FileContext.create(await loadBicep(modulePath(file, decl)), moduleParams, options));
    }
    return context;
  }

  scope(locals: ReadonlyMap<string, Value> = new Map()): Scope {
    return { context: this, locals };
  }

  variable(name: string): Value {
    if (this.#vars.has(name)) return this.#vars.get(name) as Value;
    const node = this.file.vars.get(name);
    if (!node) throw new EvaluationError(`${this.file.label}: no variable ${name}`);
    if (this.#evaluating.has(name)) throw new EvaluationError(`${this.file.label}: variable ${name} refers to itself`);
    this.#evaluating.add(name);
    const value = this.evaluate(node, this.scope());
    this.#evaluating.delete(name);
    this.#vars.set(name, value);
    return value;
  }

  /** The context of a module call, or an error when the module is not deployed. */
  module(symbol: string): FileContext {
    const context = this.modules.get(symbol);
    if (!context)
      throw new EvaluationError(
        `${this.file.label}: module ${symbol} is not deployed with these parameters (or is declared after its use), yet its outputs are used`,
      );
    return context;
  }

  output(name: string): Value {
    const decl = this.file.outputs.get(name);
    if (!decl) throw new EvaluationError(`${this.file.label}: no output ${name}`);
    return this.evaluate(decl.value, this.scope());
  }

  evaluate(node: Node, scope: Scope): Value {
    return evaluate(node, scope);
  }
}

function requiredEntry(body: Node, key: string, file: BicepFile): Node {
  const value = objectEntries(body).find((e) => e.key === key)?.value;
  if (!value) throw new EvaluationError(`${at(body, file.label)}: no ${key}`);
  return value;
}

export function isObject(value: Value | undefined): value is { [key: string]: Value } {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Unknown) &&
    !(value instanceof Lambda) &&
    !(value instanceof ResourceRef) &&
    !(value instanceof ModuleRef) &&
    !(value instanceof ModuleOutputs)
  );
}

function fail(node: Node, scope: Scope, message: string): never {
  throw new EvaluationError(`${at(node, scope.context.file.label)}: ${message}`);
}

function lookup(name: string, node: Node, scope: Scope): Value {
  if (scope.locals.has(name)) return scope.locals.get(name) as Value;
  const { context } = scope;
  const { file } = context;
  if (name in context.params) return context.params[name] as Value;
  if (file.vars.has(name)) return context.variable(name);
  const resource = file.resources.get(name);
  if (resource) return new ResourceRef(context, resource);
  const module = file.modules.get(name);
  if (module) return new ModuleRef(context, module);
  return fail(node, scope, `unknown name ${name}`);
}

/** A value as it shows in an interpolated string. */
export function show(value: Value): string {
  if (typeof value === "string") return value;
  if (typeof value === "number") return String(value);
  if (typeof value === "boolean") return value ? "True" : "False";
  if (value === null) return "";
  if (value instanceof Unknown) return `⟨${value.text}⟩`;
  if (value instanceof ResourceRef || value instanceof ModuleRef || value instanceof ModuleOutputs || value instanceof Lambda)
    return `⟨${value.constructor.name}⟩`;
  return JSON.stringify(value);
}

export function evaluate(node: Node, scope: Scope): Value {
  switch (node.type) {
    case "string": {
      const literal = literalString(node);
      if (literal !== undefined) return literal;
      let text = "";
      for (const part of kids(node)) {
        if (part.type === "string_content") text += part.text;
        else if (part.type === "escape_sequence") text += unescapeBicep(part.text);
        else if (part.type === "interpolation") text += show(evaluate(kids(part)[0] as Node, scope));
      }
      return text;
    }
    case "number":
      return Number(node.text);
    case "boolean":
      return node.text === "true";
    case "null":
      return null;
    case "identifier":
      return lookup(node.text, node, scope);
    case "parenthesized_expression":
      return evaluate(kids(node)[0] as Node, scope);
    case "array":
      return kids(node)
        .filter((c) => c.type !== "decorators")
        .map((c) => evaluate(c, scope));
    case "object": {
      const result: { [key: string]: Value } = {};
      for (const e of objectEntries(node)) {
        if (e.value.type === "resource_declaration") fail(node, scope, "nested resource declarations are not supported by these tests; use parent:");
        const key = e.key ?? evaluate(e.keyNode, scope);
        if (typeof key !== "string" || key.includes("⟨")) fail(e.keyNode, scope, `a key that is not known before deployment: ${show(key)}`);
        result[key] = evaluate(e.value, scope);
      }
      return result;
    }
    case "for_statement": {
      const loop = loopOf(node);
      const collection = evaluate(loop.collection, scope);
      if (!Array.isArray(collection)) return fail(node, scope, `a loop over ${show(collection)}, not a list known before deployment`);
      const results: Value[] = [];
      collection.forEach((item, index) => {
        const locals = new Map(scope.locals);
        locals.set(loop.item, item);
        if (loop.index) locals.set(loop.index, index);
        const inner = { context: scope.context, locals };
        if (loop.filter && evaluate(loop.filter, inner) !== true) return;
        results.push(evaluate(loop.body, inner));
      });
      return results;
    }
    case "ternary_expression": {
      const condition = evaluate(node.childForFieldName("condition") as Node, scope);
      if (typeof condition !== "boolean") return fail(node, scope, `a condition not known before deployment: ${show(condition)}`);
      // Lazy, as in Azure Resource Manager: the branch not taken may refer to what is not deployed.
      return evaluate(node.childForFieldName(condition ? "consequence" : "alternative") as Node, scope);
    }
    case "unary_expression": {
      const argument = evaluate(node.childForFieldName("argument") as Node, scope);
      const operator = node.childForFieldName("operator")?.text;
      if (operator === "!" && typeof argument === "boolean") return !argument;
      if (operator === "-" && typeof argument === "number") return -argument;
      if (argument instanceof Unknown) return new Unknown(node.text);
      return fail(node, scope, `cannot apply ${operator} to ${show(argument)}`);
    }
    case "binary_expression":
      return binary(node, scope);
    case "member_expression":
      return member(node, scope);
    case "subscript_expression": {
      misparsed(node, scope);
      const target = evaluate(node.childForFieldName("object") as Node, scope);
      const index = evaluate(node.childForFieldName("index") as Node, scope);
      if (target instanceof ResourceRef && typeof index === "number") return new ResourceRef(target.context, target.decl, index);
      if (target instanceof Unknown || index instanceof Unknown) return new Unknown(node.text);
      if (Array.isArray(target) && typeof index === "number") {
        if (index < 0 || index >= target.length) return fail(node, scope, `index ${index} out of range`);
        return target[index] as Value;
      }
      if (isObject(target) && typeof index === "string") {
        if (!(index in target)) return fail(node, scope, `no property ${index}`);
        return target[index] as Value;
      }
      return fail(node, scope, `cannot index ${show(target)} with ${show(index)}`);
    }
    case "lambda_expression": {
      const [params, body] = kids(node);
      if (!params || !body) return fail(node, scope, "unexpected lambda");
      const names = params.type === "identifier" ? [params.text] : kids(params).map((p) => p.text);
      return new Lambda(names, body, scope);
    }
    case "call_expression":
      return call(node, scope);
    default:
      return fail(node, scope, `unsupported expression (${node.type}): ${node.text.slice(0, 60)}`);
  }
}

function binary(node: Node, scope: Scope): Value {
  const operator = node.childForFieldName("operator")?.text;
  const left = evaluate(node.childForFieldName("left") as Node, scope);
  const right = () => evaluate(node.childForFieldName("right") as Node, scope);
  switch (operator) {
    case "&&":
      if (left === false) return false;
      return boolOf(node, scope, left) && boolOf(node, scope, right());
    case "||":
      if (left === true) return true;
      return boolOf(node, scope, left) || boolOf(node, scope, right());
    case "??":
      return left === null ? right() : left;
    default:
      break;
  }
  const r = right();
  if (left instanceof Unknown || r instanceof Unknown) return fail(node, scope, `an operand not known before deployment in ${node.text.slice(0, 60)}`);
  switch (operator) {
    case "==":
      return JSON.stringify(left) === JSON.stringify(r);
    case "!=":
      return JSON.stringify(left) !== JSON.stringify(r);
    case "=~":
      return typeof left === "string" && typeof r === "string" && left.toLowerCase() === r.toLowerCase();
    case "!~":
      return !(typeof left === "string" && typeof r === "string" && left.toLowerCase() === r.toLowerCase());
    default:
      break;
  }
  if (typeof left !== "number" || typeof r !== "number") return fail(node, scope, `${operator} needs numbers`);
  switch (operator) {
    case "+":
      return left + r;
    case "-":
      return left - r;
    case "*":
      return left * r;
    case "/":
      return Math.trunc(left / r);
    case "%":
      return left % r;
    case "<":
      return left < r;
    case "<=":
      return left <= r;
    case ">":
      return left > r;
    case ">=":
      return left >= r;
    default:
      return fail(node, scope, `unsupported operator ${operator}`);
  }
}

function boolOf(node: Node, scope: Scope, value: Value): boolean {
  if (typeof value !== "boolean") return fail(node, scope, `a condition not known before deployment: ${show(value)}`);
  return value;
}

/**
 * NOTE: the tree-sitter grammar reads `x => x.a` as `(x => x).a` and `c ? a : b!.x` as `(c ? a : b)!.x`,
 * unlike Bicep. Such code is refused here, with the fix (parentheses Bicep accepts too), rather than
 * evaluated as the grammar reads it.
 */
function misparsed(node: Node, scope: Scope): void {
  const object = node.childForFieldName("object");
  if (object?.type === "lambda_expression") fail(node, scope, "write a lambda whose body starts with a member or index access as `x => (x.a)`");
  if (object?.type === "ternary_expression" && node.children.some((c) => c?.type === "!")) {
    fail(node, scope, "put a branch of a conditional that uses `!` in parentheses: `c ? (a!.x) : (b!.x)`");
  }
}

function member(node: Node, scope: Scope): Value {
  misparsed(node, scope);
  const target = evaluate(node.childForFieldName("object") as Node, scope);
  const property = node.childForFieldName("property")?.text ?? "";
  const safe = node.children.some((c) => c?.type === ".?");
  if (target instanceof Unknown) return new Unknown(node.text);
  if (target === null && safe) return null;
  if (target instanceof ResourceRef) return resourceMember(target, property, node, scope);
  if (target instanceof ModuleRef) {
    if (property === "outputs") return new ModuleOutputs(target);
    if (property === "name") return evaluate(requiredEntry(target.decl.body, "name", target.context.file), target.context.scope());
    return fail(node, scope, `modules have no ${property} here`);
  }
  if (target instanceof ModuleOutputs) return target.ref.context.module(target.ref.decl.symbol).output(property);
  if (isObject(target)) {
    if (property in target) return target[property] as Value;
    if (safe) return null;
    return fail(node, scope, `no property ${property} in ${show(target).slice(0, 80)}`);
  }
  return fail(node, scope, `no property ${property} on ${show(target)}`);
}

/** The scope a resource's body is evaluated in: its file, and its loop variables when it is one of many. */
function resourceScope(ref: ResourceRef, node: Node, scope: Scope): Scope {
  const { decl, context } = ref;
  if (!decl.loop) return context.scope();
  if (ref.index === undefined) return fail(node, scope, `${decl.symbol} is a collection; index it`);
  const collection = context.evaluate(decl.loop.collection, context.scope());
  if (!Array.isArray(collection)) return fail(node, scope, `${decl.symbol} loops over a list not known before deployment`);
  const locals = new Map<string, Value>([[decl.loop.item, collection[ref.index] as Value]]);
  if (decl.loop.index) locals.set(decl.loop.index, ref.index);
  return context.scope(locals);
}

function resourceMember(ref: ResourceRef, property: string, node: Node, scope: Scope): Value {
  switch (property) {
    case "name":
      return evaluate(requiredEntry(ref.decl.body, "name", ref.context.file), resourceScope(ref, node, scope));
    case "type":
      return ref.decl.type;
    case "apiVersion":
      return ref.decl.apiVersion;
    default:
      // ids, properties Azure fills in, and list*() results: known only at deployment time.
      return new Unknown(node.text);
  }
}

/** The built-in functions the templates use; anything else is an error. */
const BUILTINS: Record<string, (args: Value[], node: Node, scope: Scope) => Value> = {
  concat: (args) => (args.every(Array.isArray) ? (args as Value[][]).flat() : args.map(show).join("")),
  contains: (args, node, scope) => {
    const [container, item] = args;
    if (typeof container === "string" && typeof item === "string") return container.includes(item);
    if (Array.isArray(container)) return container.some((c) => JSON.stringify(c) === JSON.stringify(item));
    if (isObject(container) && typeof item === "string") return item in container;
    return fail(node, scope, "contains() of a value not known before deployment");
  },
  empty: (args, node, scope) => {
    const [value] = args;
    if (value === null || value === "") return true;
    if (typeof value === "string") return false;
    if (Array.isArray(value)) return value.length === 0;
    if (isObject(value)) return Object.keys(value).length === 0;
    return fail(node, scope, `empty() of ${show(value as Value)}`);
  },
  filter: (args, node, scope) => list(args[0], node, scope).filter((item, i) => apply(args[1], [item, i], node, scope) === true),
  flatten: (args, node, scope) => list(args[0], node, scope).flatMap((item) => list(item, node, scope)),
  first: (args, node, scope) => list(args[0], node, scope)[0] ?? null,
  guid: (args) => {
    const hex = createHash("sha256").update(args.map(show).join("\n")).digest("hex");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
  },
  // Allowed by Bicep only as a parameter's default: a new value on every deployment.
  newGuid: () => randomUUID(),
  items: (args, node, scope) => {
    const [value] = args;
    if (!isObject(value)) return fail(node, scope, "items() of a value that is not an object");
    return Object.keys(value)
      .sort()
      .map((key) => ({ key, value: value[key] as Value }));
  },
  join: (args, node, scope) =>
    list(args[0], node, scope)
      .map(show)
      .join(show(args[1] as Value)),
  last: (args, node, scope) => list(args[0], node, scope).at(-1) ?? null,
  length: (args, node, scope) => {
    const [value] = args;
    if (typeof value === "string" || Array.isArray(value)) return value.length;
    if (isObject(value)) return Object.keys(value).length;
    return fail(node, scope, "length() of a value not known before deployment");
  },
  loadJsonContent: (args, node, scope) => JSON.parse(readFileSync(resolve(dirname(scope.context.file.path), text(args[0], node, scope)), "utf8")) as Value,
  map: (args, node, scope) => list(args[0], node, scope).map((item, i) => apply(args[1], [item, i], node, scope)),
  range: (args, node, scope) => Array.from({ length: number(args[1], node, scope) }, (_, i) => number(args[0], node, scope) + i),
  reduce: (args, node, scope) => list(args[0], node, scope).reduce<Value>((acc, item, i) => apply(args[2], [acc, item, i], node, scope), args[1] as Value),
  replace: (args, node, scope) =>
    text(args[0], node, scope)
      .split(text(args[1], node, scope))
      .join(text(args[2], node, scope)),
  split: (args, node, scope) => text(args[0], node, scope).split(text(args[1], node, scope)),
  string: (args) => {
    const [value] = args;
    return typeof value === "string" ? value : isObject(value) || Array.isArray(value) ? JSON.stringify(value) : show(value as Value);
  },
  subscription: () => ({
    id: `/subscriptions/${PLACEHOLDER_SUBSCRIPTION_ID}`,
    subscriptionId: PLACEHOLDER_SUBSCRIPTION_ID,
    tenantId: PLACEHOLDER_TENANT_ID,
    displayName: "subscription",
  }),
  subscriptionResourceId: (args) => `/subscriptions/${PLACEHOLDER_SUBSCRIPTION_ID}/providers/${args.map(show).join("/")}`,
  take: (args, node, scope) => {
    const [value, count] = args;
    if (typeof value === "string" || Array.isArray(value)) return value.slice(0, number(count, node, scope));
    return fail(node, scope, "take() of a value not known before deployment");
  },
  tenant: () => ({ tenantId: PLACEHOLDER_TENANT_ID }),
  startsWith: (args, node, scope) =>
    text(args[0], node, scope)
      .toLowerCase()
      .startsWith(text(args[1], node, scope).toLowerCase()),
  toLower: (args, node, scope) => text(args[0], node, scope).toLowerCase(),
  toObject: (args, node, scope) => {
    const result: { [key: string]: Value } = {};
    for (const item of list(args[0], node, scope)) {
      const key = apply(args[1], [item], node, scope);
      if (typeof key !== "string" || key.includes("⟨")) return fail(node, scope, `a key not known before deployment: ${show(key)}`);
      result[key] = args[2] === undefined ? item : apply(args[2], [item], node, scope);
    }
    return result;
  },
  toUpper: (args, node, scope) => text(args[0], node, scope).toUpperCase(),
  trim: (args, node, scope) => text(args[0], node, scope).trim(),
  union: (args, node, scope) => {
    if (args.every(isObject)) return Object.assign({}, ...(args as object[])) as Value;
    if (args.every(Array.isArray)) return [...new Map((args as Value[][]).flat().map((v) => [JSON.stringify(v), v])).values()];
    return fail(node, scope, `union() of values not known before deployment: ${args.map(show).join(", ").slice(0, 120)}`);
  },
  uniqueString: (args) => {
    // As long as the real one (13 characters of a-z and 2-7), and as stable: the same input, the same output.
    const digest = createHash("sha256").update(args.map(show).join("-")).digest();
    const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
    return Array.from(digest.subarray(0, 13), (byte) => alphabet[byte % 32]).join("");
  },
};

function text(value: Value | undefined, node: Node, scope: Scope): string {
  if (typeof value === "string") return value;
  return fail(node, scope, `expected a string known before deployment, got ${show(value ?? null)}`);
}

function number(value: Value | undefined, node: Node, scope: Scope): number {
  if (typeof value === "number") return value;
  return fail(node, scope, `expected a number, got ${show(value ?? null)}`);
}

function list(value: Value | undefined, node: Node, scope: Scope): Value[] {
  if (Array.isArray(value)) return value;
  return fail(node, scope, `expected a list known before deployment, got ${show(value ?? null)}`);
}

function apply(fn: Value | undefined, args: Value[], node: Node, scope: Scope): Value {
  if (!(fn instanceof Lambda)) return fail(node, scope, "expected a lambda");
  const locals = new Map(fn.scope.locals);
  fn.params.forEach((name, i) => locals.set(name, args[i] as Value));
  return evaluate(fn.body, { context: fn.scope.context, locals });
}

function call(node: Node, scope: Scope): Value {
  const fnNode = node.childForFieldName("function") as Node;
  const args = kids(node.childForFieldName("arguments") as Node).map((a) => evaluate(a, scope));
  if (fnNode.type === "member_expression") {
    // resource.listKeys() and the like: what they return exists only in Azure.
    const target = evaluate(fnNode.childForFieldName("object") as Node, scope);
    const method = fnNode.childForFieldName("property")?.text ?? "";
    if (target instanceof ResourceRef && /^list/.test(method)) return new Unknown(node.text);
    if (target instanceof Unknown) return new Unknown(node.text);
    return fail(node, scope, `unsupported call ${node.text.slice(0, 60)}`);
  }
  const name = fnNode.text.replace(/^(sys|az)\./, "");
  const func = scope.context.file.funcs.get(name);
  if (func) {
    // User-defined functions see their parameters only.
    const locals = new Map<string, Value>(func.params.map((p, i) => [p, args[i] as Value]));
    return evaluate(func.body, scope.context.scope(locals));
  }
  const builtin = BUILTINS[name];
  if (!builtin) return fail(node, scope, `the tests' evaluator does not know ${name}(); add it to test/unit/infra/support/evaluate.ts`);
  return builtin(args, node, scope);
}
