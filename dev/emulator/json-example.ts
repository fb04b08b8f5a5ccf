/** A small value that satisfies a JSON Schema's common keywords: what a model in JSON mode might answer. */
export function exampleFor(schema: unknown, hint = "example"): unknown {
  const s = (schema ?? {}) as Record<string, unknown>;
  if (s.const !== undefined) return s.const;
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case "object": {
      const properties = (s.properties ?? {}) as Record<string, unknown>;
      return Object.fromEntries(Object.entries(properties).map(([key, value]) => [key, exampleFor(value, key)]));
    }
    case "array":
      return [exampleFor(s.items, hint)];
    case "integer":
      return typeof s.minimum === "number" ? Math.ceil(s.minimum) : 1;
    case "number":
      return typeof s.minimum === "number" ? s.minimum : 1;
    case "boolean":
      return true;
    case "null":
      return null;
    default:
      return hint;
  }
}
