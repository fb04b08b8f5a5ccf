import { readFileSync } from "node:fs";
import { join } from "node:path";
import SwaggerParser from "@apidevtools/swagger-parser";
import { HttpRequest } from "@azure/functions";
import Ajv04 from "ajv-draft-04";
import addFormats from "ajv-formats";
import { describe, expect, it } from "vitest";
import { callerDeadline } from "../../src/http/caller-deadline.js";
import { fallbackAllowed } from "../../src/http/fallback.js";
import { idempotencyKey } from "../../src/http/idempotency.js";
import { openApiDocument, REQUEST_TIMEOUT_MS } from "../../src/openapi/document.js";

/**
 * The connector lint: GET /api/openapi.json's document (openApiDocument, which that route serves) checked
 * as Power Platform checks a custom connector's apiDefinition.swagger.json: against its own JSON Schema
 * (test/fixtures/power-platform), against OpenAPI 2.0 (swagger-parser), and against the certification
 * guidance that a schema cannot say (labels and help text everywhere, PascalCase operation ids, no
 * shapeless objects where the shape is known, a default for every hidden required value, under 1 MB).
 */
const doc = openApiDocument({ host: "example.azurewebsites.net", scheme: "https" }) as any;
const FIXTURE = join(__dirname, "..", "fixtures", "power-platform", "apiDefinition.swagger.schema.json");
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch"];

/**
 * The schema as its own tooling reads it. It is written for VS Code's JSON language service, which checks
 * a name against `patternProperties` only when `properties` does not list it; a standard validator checks
 * both, and `^x-ms-` leads to a schema nothing matches, so every extension would be refused, even those
 * the schema lists (`x-ms-visibility` on an operation). Each pattern is made to skip the listed names.
 */
function asItsToolingReadsIt(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(asItsToolingReadsIt);
  if (!schema || typeof schema !== "object") return schema;
  const out = Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, asItsToolingReadsIt(value)]));
  const { properties, patternProperties } = schema as { properties?: object; patternProperties?: Record<string, unknown> };
  if (properties && patternProperties) {
    const listed = Object.keys(properties).map((name) => name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    out.patternProperties = Object.fromEntries(
      Object.entries(out.patternProperties as Record<string, unknown>).map(([pattern, value]) => [`^(?!(?:${listed.join("|")})$)(?:${pattern})`, value]),
    );
  }
  return out;
}

function powerPlatformValidator(readAsTooling = true) {
  const schema = JSON.parse(readFileSync(FIXTURE, "utf8"));
  const ajv = new Ajv04({ strict: false, allErrors: true });
  addFormats(ajv);
  return ajv.compile(readAsTooling ? (asItsToolingReadsIt(schema) as object) : schema);
}

/** A minimal document with one operation, for checking how the schema is read. */
const tiny = (operation: Record<string, unknown>) => ({
  swagger: "2.0",
  info: { title: "t", version: "1" },
  paths: { "/x": { get: { operationId: "X", responses: { 200: { description: "ok" } }, ...operation } } },
});

interface Operation {
  method: string;
  path: string;
  operation: any;
}
const operations: Operation[] = Object.entries<any>(doc.paths).flatMap(([path, item]) =>
  METHODS.filter((method) => item[method]).map((method) => ({ method, path, operation: item[method] })),
);

/** Every schema of the document, each with the path a reader would name it by. */
function schemas(): Array<{ where: string; schema: any }> {
  const found: Array<{ where: string; schema: any }> = [];
  for (const [name, schema] of Object.entries<any>(doc.definitions)) found.push({ where: `#/definitions/${name}`, schema });
  for (const { method, path, operation } of operations) {
    for (const [status, response] of Object.entries<any>(operation.responses)) {
      if (response.schema && !response.schema.$ref) found.push({ where: `${method.toUpperCase()} ${path} ${status}`, schema: response.schema });
    }
  }
  return found;
}

/** Each property under a schema, recursively (into items too), with its dotted path. */
function properties(schema: any, prefix = ""): Array<{ path: string; property: any; required: boolean }> {
  const out: Array<{ path: string; property: any; required: boolean }> = [];
  for (const [name, property] of Object.entries<any>(schema.properties ?? {})) {
    const path = prefix ? `${prefix}.${name}` : name;
    out.push({ path, property, required: (schema.required ?? []).includes(name) });
    out.push(...properties(property, path));
  }
  if (schema.items) out.push(...properties(schema.items, `${prefix}[]`));
  return out;
}

/** Free-form: an object (or any value) with no fields, no $ref and no enum: the designer can only offer a JSON box. */
const freeForm = (schema: any) =>
  (schema.type === "object" || schema.type === undefined) && !schema.properties && !schema.$ref && !schema.enum && !schema.items;
/** Where a free-form value is the point: the parsed answer, pass-through parameters, a JSON Schema, a tool's own result. */
const FREE_FORM_ALLOWED = [/(^|\.)parsed$/, /(^|\.)extra$/, /json_schema\.schema$/, /tools\[\]\.function\.parameters$/, /steps\[\]\.result$/];

describe("the connector lint of /api/openapi.json", () => {
  it("passes Power Platform's schema for a connector's apiDefinition.swagger.json", () => {
    const validate = powerPlatformValidator();
    expect(validate(structuredClone(doc)), JSON.stringify(validate.errors, null, 1)).toBe(true);
  });

  it("reads that schema as its tooling does: listed extensions pass, others fail, as they do for Power Platform", () => {
    const strict = powerPlatformValidator(false);
    const tooling = powerPlatformValidator();
    expect(strict(tiny({ "x-ms-visibility": "advanced" }))).toBe(false);
    expect(tooling(tiny({ "x-ms-visibility": "advanced" }))).toBe(true);
    expect(tooling(tiny({ "x-ms-visibility": "hidden" }))).toBe(false);
    expect(tooling(tiny({ "x-ms-made-up": true }))).toBe(false);
    // An operation's label is its summary: x-ms-summary is for parameters and schema fields.
    expect(tooling(tiny({ "x-ms-summary": "X" }))).toBe(false);
    expect(tooling(tiny({ "x-vendor-own": true }))).toBe(true);
  });

  it("is valid OpenAPI 2.0, per swagger-parser", async () => {
    await expect(SwaggerParser.validate(structuredClone(doc))).resolves.toBeTruthy();
  });

  it("is under 1 MB", () => {
    expect(Buffer.byteLength(JSON.stringify(doc))).toBeLessThan(1_000_000);
  });

  it("gives every operation a unique PascalCase operationId, a short summary and a description that says more", () => {
    const ids = operations.map(({ operation }) => operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { method, path, operation } of operations) {
      const where = `${method.toUpperCase()} ${path}`;
      expect(operation.operationId, where).toMatch(/^[A-Z][a-zA-Z0-9]*$/);
      expect(operation.summary, where).toMatch(/^[A-Z][\w ()-]*[\w)]$/);
      expect(operation.summary.length, where).toBeLessThanOrEqual(80);
      expect(operation.description, where).toMatch(/^\S.*\.$/s);
      expect(operation.description, where).not.toBe(operation.summary);
    }
  });

  it("gives every parameter a label and a description, and a default to every hidden required one", () => {
    for (const { method, path, operation } of operations) {
      for (const parameter of operation.parameters ?? []) {
        const where = `${method.toUpperCase()} ${path} ${parameter.in} ${parameter.name}`;
        expect(parameter["x-ms-summary"], where).toMatch(/^[A-Z(]/);
        expect(parameter.description, where).toMatch(/^\S.*\.$/s);
        if (parameter.required && parameter["x-ms-visibility"] === "internal") expect(parameter.default, where).toBeDefined();
      }
    }
  });

  it("gives every property, at every depth, a label and a description, and a default to every hidden required one", () => {
    const missing: string[] = [];
    for (const { where, schema } of schemas()) {
      for (const { path, property, required } of properties(schema)) {
        if (typeof property["x-ms-summary"] !== "string") missing.push(`${where} ${path}: x-ms-summary`);
        if (typeof property.description !== "string" || !/\.$/.test(property.description)) missing.push(`${where} ${path}: description`);
        if (required && property["x-ms-visibility"] === "internal" && property.default === undefined) missing.push(`${where} ${path}: default`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("has no free-form object where the shape is known", () => {
    const shapeless: string[] = [];
    for (const { where, schema } of schemas()) {
      for (const { path, property } of properties(schema)) {
        const field = property.type === "array" ? property.items : property;
        if (freeForm(field) && !FREE_FORM_ALLOWED.some((allowed) => allowed.test(path))) shapeless.push(`${where} ${path}`);
      }
    }
    expect(shapeless).toEqual([]);
    // And the allowed ones are there, so the list cannot go stale unseen.
    const allowedSeen = schemas().flatMap(({ schema }) =>
      properties(schema).filter(({ path, property }) => freeForm(property) && FREE_FORM_ALLOWED.some((a) => a.test(path))),
    );
    expect(allowedSeen.length).toBeGreaterThanOrEqual(FREE_FORM_ALLOWED.length);
  });

  it("documents the headers as the routes read them", () => {
    const request = (headers: Record<string, string>) => new HttpRequest({ url: "http://localhost/api/chat", method: "POST", headers });
    const chat = doc.paths["/chat"].post.parameters;
    const timeout = chat.find((p: any) => p.name === "x-request-timeout-ms");
    expect(timeout).toMatchObject({ in: "header", type: "integer", ...REQUEST_TIMEOUT_MS });
    expect(callerDeadline(request({ "x-request-timeout-ms": String(timeout.minimum) }))).toBeInstanceOf(AbortSignal);
    expect(callerDeadline(request({ "x-request-timeout-ms": String(timeout.maximum) }))).toBeInstanceOf(AbortSignal);
    expect(() => callerDeadline(request({ "x-request-timeout-ms": String(timeout.minimum - 1) }))).toThrow(/x-request-timeout-ms/);
    expect(() => callerDeadline(request({ "x-request-timeout-ms": String(timeout.maximum + 1) }))).toThrow(/x-request-timeout-ms/);

    const fallback = chat.find((p: any) => p.name === "x-allow-fallback");
    expect(fallback).toMatchObject({ in: "header", type: "boolean", default: false });
    expect(fallbackAllowed(request({ "x-allow-fallback": "true" }))).toBe(true);
    expect(fallbackAllowed(request({ "x-allow-fallback": "false" }))).toBe(false);
    expect(fallbackAllowed(request({}))).toBe(fallback.default);

    const key = chat.find((p: any) => p.name === "Idempotency-Key");
    expect(key).toMatchObject({ in: "header", type: "string", minLength: 1, maxLength: 255 });
    expect(idempotencyKey(request({ "idempotency-key": "k".repeat(key.maxLength) }))).toHaveLength(255);
    expect(() => idempotencyKey(request({ "idempotency-key": "k".repeat(key.maxLength + 1) }))).toThrow(/Idempotency-Key/);
  });
});
