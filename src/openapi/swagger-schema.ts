/**
 * Turns a JSON Schema (as TypeBox writes it) into a Swagger 2.0 Schema Object, the dialect Logic Apps
 * custom connectors read: `const` becomes a one-value `enum`, unions of constants become an `enum`,
 * `null` in a union becomes `x-nullable`, a union of objects told apart by a constant `type` becomes
 * one object whose `type` is an enum and which has every form's fields, other unions (which 2.0
 * cannot express) keep their first form with the others described, and every property gets an
 * `x-ms-summary` label (in title case) for the designer.
 */
export type JsonSchema = Record<string, unknown>;

const KEPT = [
  "type",
  "description",
  "format",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "minLength",
  "maxLength",
  "pattern",
  "minItems",
  "maxItems",
  "uniqueItems",
  "enum",
  "default",
  "title",
];

export function toSwaggerSchema(schema: JsonSchema): JsonSchema {
  if (schema.anyOf) return fromUnion(schema.anyOf as JsonSchema[], schema);
  const out: JsonSchema = {};
  for (const key of KEPT) if (schema[key] !== undefined) out[key] = schema[key];
  if (schema.const !== undefined) {
    out.type ??= typeof schema.const;
    out.enum = [schema.const];
  }
  if (schema.type === "object") {
    const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
    if (Object.keys(properties).length > 0) {
      out.properties = Object.fromEntries(
        Object.entries(properties).map(([name, property]) => [name, { "x-ms-summary": summary(name, property), ...toSwaggerSchema(property) }]),
      );
    }
    if (Array.isArray(schema.required) && schema.required.length > 0) out.required = schema.required;
    const extra = schema.patternProperties ? Object.values(schema.patternProperties as Record<string, JsonSchema>)[0] : schema.additionalProperties;
    if (extra === false) out.additionalProperties = false;
    else if (extra && typeof extra === "object") out.additionalProperties = toSwaggerSchema(extra as JsonSchema);
  }
  if (schema.type === "array" && schema.items) out.items = toSwaggerSchema(schema.items as JsonSchema);
  if (schema.type === undefined && schema.const === undefined && schema.enum === undefined) {
    // Any JSON value: 2.0 has no way to say it but to leave the type out.
    delete out.type;
  }
  return out;
}

function fromUnion(variants: JsonSchema[], parent: JsonSchema): JsonSchema {
  const nullable = variants.some((v) => v.type === "null");
  const forms = variants.filter((v) => v.type !== "null");
  const description = parent.description as string | undefined;
  if (forms.length > 1 && forms.every(isTagged)) {
    const out = toSwaggerSchema(mergeTagged(forms, description));
    if (nullable) out["x-nullable"] = true;
    return out;
  }
  const constants = forms.filter((v) => v.const !== undefined);
  const others = forms.filter((v) => v.const === undefined);
  let out: JsonSchema;
  let described: JsonSchema[];
  if (constants.length > 0) {
    // The named choices are what a designer can offer: they become the enum, other forms are described.
    out = { type: typeof constants[0]?.const, enum: constants.map((v) => v.const) };
    described = others;
  } else {
    out = toSwaggerSchema(others[0] ?? {});
    described = others.slice(1);
  }
  if (described.length > 0) {
    out.description = [description ?? out.description, `Also accepted: ${described.map(describeForm).join("; or ")}.`].filter(Boolean).join(" ");
  }
  if (description && out.description === undefined) out.description = description;
  if (nullable) out["x-nullable"] = true;
  return out;
}

/** An object form with a constant `type`, e.g. `{type: "json_schema", json_schema: {...}}`. */
function isTagged(schema: JsonSchema): boolean {
  const type = (schema.properties as Record<string, JsonSchema> | undefined)?.type;
  return schema.type === "object" && type?.const !== undefined;
}

/**
 * The forms as one object (2.0 has no oneOf): `type` is the enum of their tags, every other field is
 * optional and says which `type` it goes with; the request's own schema still checks each form.
 */
function mergeTagged(forms: JsonSchema[], description: string | undefined): JsonSchema {
  const tags = forms.map((form) => (form.properties as Record<string, JsonSchema>).type?.const);
  const properties: Record<string, JsonSchema> = { type: { anyOf: tags.map((tag) => ({ const: tag })) } };
  for (const form of forms) {
    for (const [name, property] of Object.entries(form.properties as Record<string, JsonSchema>)) {
      if (name === "type" || properties[name]) continue;
      const withIt = forms.filter((other) => (other.properties as Record<string, JsonSchema>)[name] !== undefined);
      const only =
        withIt.length === forms.length
          ? ""
          : `Only with type ${withIt.map((other) => JSON.stringify((other.properties as Record<string, JsonSchema>).type?.const)).join(" or ")}.`;
      properties[name] = only ? { ...property, description: [property.description, only].filter(Boolean).join(" ") } : property;
    }
  }
  const required = Object.keys(properties).filter((name) => forms.every((form) => ((form.required as string[] | undefined) ?? []).includes(name)));
  return {
    type: "object",
    ...(description ? { description } : {}),
    properties,
    ...(required.length > 0 ? { required } : {}),
    ...(forms.every((form) => form.additionalProperties === false) ? { additionalProperties: false } : {}),
  };
}

function describeForm(schema: JsonSchema): string {
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.type === "object" && schema.properties) {
    const type = (schema.properties as Record<string, JsonSchema>).type;
    return type?.const !== undefined ? `an object with type ${JSON.stringify(type.const)}` : "an object";
  }
  if (schema.type === "array") return typeof schema.maxItems === "number" ? `an array of at most ${schema.maxItems}` : "an array";
  return String(schema.type ?? "a value");
}

/** Words a label spells in capitals. */
const CAPITALS: Record<string, string> = { id: "ID", json: "JSON", url: "URL" };

/** `max_tokens` -> `Max Tokens`, `tool_call_id` -> `Tool Call ID` (title case, as the designer wants), unless the schema has a title. */
export function summary(name: string, schema: JsonSchema = {}): string {
  if (typeof schema.title === "string") return schema.title;
  return name
    .split("_")
    .filter(Boolean)
    .map((word) => CAPITALS[word] ?? word.charAt(0).toUpperCase() + word.slice(1))
    .join(" ");
}
