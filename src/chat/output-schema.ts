import { createHash } from "node:crypto";
import type { Ajv as AjvType, ValidateFunction } from "ajv";
import { HttpProblem } from "../lib/problem.js";

/**
 * A caller's JSON Schema for the answer (`response_format.json_schema.schema`) is data from someone
 * we do not trust, and Ajv turns a schema into code. So only the subset of JSON Schema that structured
 * output needs is accepted (the keywords OpenAI's and Mistral's structured outputs document, plus the
 * plain numeric, string and array bounds), within limits that bound the work of compiling it and of
 * checking an answer with it:
 * - no `$async` (its validator returns a Promise, which is truthy and rejects unobserved), no `$data`,
 *   no `$anchor` or dynamic references, `$id` only at the root (where it is dropped: below it, it
 *   would change how references resolve), and `$ref` only to `#/$defs/...` or `#/definitions/...` of
 *   the same schema (never fetched);
 * - `pattern` and `patternProperties` run on RE2 (re2js), whose time is linear in the input: the
 *   backtracking engine would let `^(a+)+$` hold the event loop for minutes;
 * - `format` only from the list below, checked by ajv-formats' fast mode (unknown ones are refused
 *   rather than ignored with a log line per use);
 * - references are compiled as functions, not inlined, so a definition used 150 times costs once.
 */
export const OUTPUT_SCHEMA_LIMITS = {
  /** The schema as JSON. */
  maxBytes: 16 * 1024,
  /** Nesting of subschemas. */
  maxDepth: 16,
  maxRefs: 32,
  /** `pattern`s and `patternProperties` names together: each is compiled. */
  maxPatterns: 16,
  /** Subschemas in all (properties, items, branches...). */
  maxSubschemas: 128,
  /** The generated validator's source, a last bound on what compiling produced. */
  maxCompiledBytes: 256 * 1024,
  /** Distinct schemas kept compiled. */
  cacheSize: 128,
} as const;

export const OUTPUT_SCHEMA_FORMATS = ["date", "time", "date-time", "duration", "email", "hostname", "ipv4", "ipv6", "uri", "uri-reference", "uuid"] as const;

/** Keywords whose value is data or a plain bound: nothing to walk into. */
const PLAIN_KEYWORDS = new Set([
  "type",
  "enum",
  "const",
  "required",
  "title",
  "description",
  "default",
  "examples",
  "$comment",
  "$schema",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "multipleOf",
  "minLength",
  "maxLength",
  "minItems",
  "maxItems",
  "uniqueItems",
  "minProperties",
  "maxProperties",
  "nullable",
  "strict",
  "pattern",
  "format",
  "$ref",
]);
/** Keywords holding one subschema (or, for `items`, a list in draft-07's tuple form). */
const SCHEMA_KEYWORDS = new Set(["items", "additionalProperties", "not", "contains", "propertyNames", "additionalItems"]);
/** Keywords holding a list of subschemas. */
const LIST_KEYWORDS = new Set(["anyOf", "oneOf", "allOf", "prefixItems"]);
/** Keywords holding subschemas by name. */
const MAP_KEYWORDS = new Set(["properties", "patternProperties", "$defs", "definitions"]);
const LOCAL_REF = /^#\/(\$defs|definitions)\/[^/]+$/;
/** RE2's compiled size of one pattern: `[0-9]{1,100}` is about 300. */
const RE2_MAX_PROGRAM = 2_000;
const MAX_PATTERN_CHARS = 256;
/** The sum of the upper bounds of a pattern's `{n}`, `{n,}` and `{n,m}`. */
const MAX_PATTERN_REPEATS = 1_000;

function repeatedBound(pattern: string): number {
  let sum = 0;
  for (const match of pattern.matchAll(/\{(\d+)(?:,(\d*))?\}/g)) sum += Math.max(Number(match[1]), Number(match[2] || 0));
  return sum;
}

const cache = new Map<string, ValidateFunction>();

/**
 * The validator for a caller's output schema, compiled once per distinct schema (a bounded cache);
 * a 400 naming the keyword for anything outside the subset or the limits.
 */
export function outputSchemaValidator(schema: Record<string, unknown>): ValidateFunction {
  const text = JSON.stringify(schema);
  if (Buffer.byteLength(text) > OUTPUT_SCHEMA_LIMITS.maxBytes) throw refused("", `is larger than ${OUTPUT_SCHEMA_LIMITS.maxBytes} bytes`);
  const key = createHash("sha256").update(text).digest("base64");
  const cached = cache.get(key);
  if (cached) {
    // Most recently used last, so the oldest is the first to go.
    cache.delete(key);
    cache.set(key, cached);
    return cached;
  }
  checkSubset(schema);
  const validate = compile(schema);
  cache.set(key, validate);
  if (cache.size > OUTPUT_SCHEMA_LIMITS.cacheSize) cache.delete(cache.keys().next().value as string);
  return validate;
}

function checkSubset(root: Record<string, unknown>): void {
  const counts = { refs: 0, subschemas: 0, patterns: 0 };
  const visit = (schema: unknown, path: string, depth: number): void => {
    if (typeof schema === "boolean") return;
    if (!schema || typeof schema !== "object" || Array.isArray(schema)) throw refused(path, "must be a schema object");
    if (depth > OUTPUT_SCHEMA_LIMITS.maxDepth) throw refused(path, `nests deeper than ${OUTPUT_SCHEMA_LIMITS.maxDepth} levels`);
    if (++counts.subschemas > OUTPUT_SCHEMA_LIMITS.maxSubschemas) throw refused("", `has more than ${OUTPUT_SCHEMA_LIMITS.maxSubschemas} subschemas in all`);
    for (const [keyword, value] of Object.entries(schema)) {
      const at = `${path}/${keyword}`;
      if (keyword === "$ref") {
        if (typeof value !== "string" || !LOCAL_REF.test(value)) throw refused(at, "may only point into this schema's $defs or definitions (#/$defs/name)");
        if (++counts.refs > OUTPUT_SCHEMA_LIMITS.maxRefs) throw refused("", `uses $ref more than ${OUTPUT_SCHEMA_LIMITS.maxRefs} times`, "$ref");
      } else if (keyword === "format") {
        if (!(OUTPUT_SCHEMA_FORMATS as readonly unknown[]).includes(value)) throw refused(at, `must be one of ${OUTPUT_SCHEMA_FORMATS.join(", ")}`);
      } else if (keyword === "pattern") {
        checkPattern(value, at, counts);
      } else if (PLAIN_KEYWORDS.has(keyword)) {
        // Ajv's $data references are off, but say so by name rather than as a type error.
        if (value && typeof value === "object" && "$data" in value) throw refused(`${at}/$data`, "is not accepted: bounds must be values", "$data");
      } else if (SCHEMA_KEYWORDS.has(keyword)) {
        if (Array.isArray(value)) value.forEach((item, index) => visit(item, `${at}/${index}`, depth + 1));
        else visit(value, at, depth + 1);
      } else if (LIST_KEYWORDS.has(keyword)) {
        if (!Array.isArray(value)) throw refused(at, "must be a list of schemas");
        value.forEach((item, index) => visit(item, `${at}/${index}`, depth + 1));
      } else if (MAP_KEYWORDS.has(keyword)) {
        if (!value || typeof value !== "object" || Array.isArray(value)) throw refused(at, "must be an object of schemas");
        for (const [name, item] of Object.entries(value)) {
          if (keyword === "patternProperties") checkPattern(name, at, counts);
          visit(item, `${at}/${escapePointer(name)}`, depth + 1);
        }
      } else {
        throw refused(at, "is not a keyword this service accepts in an output schema", keyword);
      }
    }
  };
  const { $id: _id, ...body } = root;
  visit(body, "", 0);
}

function checkPattern(pattern: unknown, at: string, counts: { patterns: number }): void {
  if (typeof pattern !== "string") throw refused(at, "must be a string");
  // Before compiling: RE2 refuses nested repeats but expands flat ones, so `.{1,1000}` many times over
  // would cost seconds and hundreds of MB to compile only to be refused.
  if (pattern.length > MAX_PATTERN_CHARS || repeatedBound(pattern) > MAX_PATTERN_REPEATS) {
    throw refused(at, `must be at most ${MAX_PATTERN_CHARS} characters, with counted repeats ({n,m}) adding up to at most ${MAX_PATTERN_REPEATS}`);
  }
  if (++counts.patterns > OUTPUT_SCHEMA_LIMITS.maxPatterns)
    throw refused("", `has more than ${OUTPUT_SCHEMA_LIMITS.maxPatterns} regular expressions (pattern, patternProperties)`);
  try {
    if (re2(pattern).programSize() > RE2_MAX_PROGRAM) throw new Error("too large");
  } catch {
    throw refused(at, "must be a regular expression without lookaround or backreferences, of moderate size");
  }
}

let ajvModule: typeof import("ajv") | undefined;
let formats: typeof import("ajv-formats") | undefined;

function compile(schema: Record<string, unknown>): ValidateFunction {
  ajvModule ??= require("ajv") as typeof import("ajv");
  formats ??= require("ajv-formats") as typeof import("ajv-formats");
  // A fresh Ajv per distinct schema: a shared one would keep every caller's schema forever.
  const ajv: AjvType = new ajvModule.Ajv({
    strict: false,
    allErrors: false,
    logger: false,
    inlineRefs: false,
    addUsedSchema: false,
    code: { regExp: re2Engine, source: true },
  });
  (formats.default as unknown as (ajv: AjvType, options: unknown) => void)(ajv, { mode: "fast", formats: [...OUTPUT_SCHEMA_FORMATS], keywords: false });
  // $schema is dropped (answers are checked with draft-07 rules, which the subset shares), and $id.
  const { $schema: _dialect, $id: _id, ...body } = schema;
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(body);
  } catch (error) {
    throw refused("", `is not a usable JSON Schema: ${(error as Error).message.slice(0, 200)}`);
  }
  if ((validate as { $async?: unknown }).$async || (validate.source?.validateCode.length ?? 0) > OUTPUT_SCHEMA_LIMITS.maxCompiledBytes) {
    throw refused("", "compiles to a validator larger than this service allows");
  }
  return validate;
}

type Re2 = { test(input: string): boolean; programSize(): number; toString(): string };

const compiledPatterns = new Map<string, Re2>();

/** Compiled once: the subset check and Ajv's code both ask for each pattern. */
function re2(pattern: string): Re2 {
  let compiled = compiledPatterns.get(pattern);
  if (!compiled) {
    const { RE2JS } = require("re2js") as typeof import("re2js");
    compiled = RE2JS.compile(pattern);
    // Only patterns the check accepts are kept; a refused one is not worth its memory.
    if (compiled.programSize() > RE2_MAX_PROGRAM) return compiled;
    if (compiledPatterns.size >= OUTPUT_SCHEMA_LIMITS.cacheSize * OUTPUT_SCHEMA_LIMITS.maxPatterns) compiledPatterns.clear();
    compiledPatterns.set(pattern, compiled);
  }
  return compiled;
}

/** Ajv's hook for its regular expressions: RE2 instead of the backtracking engine. */
const re2Engine = Object.assign((pattern: string) => re2(pattern), { code: "re2js" });

function escapePointer(name: string): string {
  return name.replace(/~/g, "~0").replace(/\//g, "~1");
}

function refused(pointer: string, rule: string, keyword?: string): HttpProblem {
  const param = `response_format.json_schema.schema${pointer.replace(/\//g, ".")}`;
  return new HttpProblem({
    status: 400,
    code: "invalid_request",
    title: "Bad Request",
    detail: `${param} ${rule}.`,
    extensions: { param, rule: "schema", ...(keyword ? { keyword } : {}) },
  });
}
