/**
 * Azure Functions route templates (ASP.NET style): literal segments, `{name}`, `{name?}`,
 * `{name:constraint}` and a final `{*rest}`. Matching is case-insensitive for literals.
 */
export interface CompiledRoute {
  template: string;
  match(path: string): Record<string, string> | undefined;
  /** Higher first: literal segments win over parameters, catch-alls come last. */
  precedence: number;
}

const CONSTRAINTS: Record<string, RegExp> = {
  int: /^-?\d+$/,
  long: /^-?\d+$/,
  bool: /^(true|false)$/i,
  alpha: /^[a-z]+$/i,
  guid: /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i,
  double: /^-?\d+(\.\d+)?$/,
  float: /^-?\d+(\.\d+)?$/,
};

type Segment = { kind: "literal"; text: string } | { kind: "param"; name: string; optional: boolean; constraint?: RegExp; catchAll: boolean };

export function compileRoute(template: string): CompiledRoute {
  const segments = template
    .split("/")
    .filter((s) => s !== "")
    .map(parseSegment);
  const literals = segments.filter((s) => s.kind === "literal").length;
  const catchAll = segments.some((s) => s.kind === "param" && s.catchAll);
  return {
    template,
    precedence: literals * 10 - (catchAll ? 5 : 0) + segments.length,
    match: (path) =>
      matchSegments(
        segments,
        path.split("/").filter((s) => s !== ""),
      ),
  };
}

function parseSegment(text: string): Segment {
  const param = /^\{(\*)?([A-Za-z_][\w]*)(?::([a-z]+)(?:\([^)]*\))?)?(\?)?\}$/.exec(text);
  if (!param) return { kind: "literal", text: text.toLowerCase() };
  const [, star, name = "", constraint, optional] = param;
  return {
    kind: "param",
    name,
    optional: Boolean(optional) || Boolean(star),
    catchAll: Boolean(star),
    constraint: constraint ? CONSTRAINTS[constraint] : undefined,
  };
}

/** A path with a malformed %-escape matches no route (the host answers 404), rather than failing. */
function decode(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}

function matchSegments(segments: Segment[], parts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (const [i, segment] of segments.entries()) {
    const part = parts[i];
    if (segment.kind === "literal") {
      if (part?.toLowerCase() !== segment.text) return undefined;
      continue;
    }
    if (segment.catchAll) {
      const decoded = parts.slice(i).map(decode);
      if (decoded.includes(undefined)) return undefined;
      const rest = decoded.join("/");
      if (rest !== "") params[segment.name] = rest;
      return params;
    }
    if (part === undefined) {
      if (!segment.optional) return undefined;
      continue;
    }
    const value = decode(part);
    if (value === undefined || (segment.constraint && !segment.constraint.test(value))) return undefined;
    params[segment.name] = value;
  }
  return parts.length <= segments.length ? params : undefined;
}
