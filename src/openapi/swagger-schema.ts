/**
 * Turns a JSON Schema (as TypeBox writes it) into a Swagger 2.0 Schema Object, the dialect Logic Apps
 * custom connectors read: `const` becomes a one-value `enum`, unions of constants become an `enum`,
 * `null` in a union becomes `x-nullable`, other unions (which 2.0 cannot express) keep their first
 * form with the others described, and every property gets an `x-ms-summary` label for the designer.
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

function describeForm(schema: JsonSchema): string {
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.type === "object" && schema.properties) {
    const type = (schema.properties as Record<string, JsonSchema>).type;
    return type?.const !== undefined ? `an object with type ${JSON.stringify(type.const)}` : "an object";
  }
  if (schema.type === "array") return "an array";
  return String(schema.type ?? "a value");
}

/** `max_tokens` -> `Max tokens`, unless the schema has a title. */
function summary(name: string, schema: JsonSchema): string {
  if (typeof schema.title === "string") return schema.title;
  const words = name.replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}
