import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative, sep } from "node:path";

/**
 * The layers of src/, from the top: a module may import from its own folder and from any layer below
 * its own, never from its own layer's other folders or from above. docs/architecture.md explains it.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ["index.ts", "functions", "cli"],
  ["runtime.ts"],
  ["http", "openapi"],
  ["chat", "dropin", "health"],
  ["inference", "tools"],
  ["quotas", "idempotency", "jobs"],
  ["storage", "telemetry"],
  ["credentials"],
  ["config"],
  ["lib"],
];

export interface Edge {
  from: string;
  to: string;
}

/** A file's top-level place in src/: its folder, or its own name for files at the top. */
export function placeOf(srcRoot: string, file: string): string {
  return relative(srcRoot, file).split(sep)[0] as string;
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)["'](\.{1,2}\/[^"']+)["']/gm;

/** Every import of one place by another, `import type` and dynamic imports included. */
export function edgesOf(srcRoot: string): Edge[] {
  const edges: Edge[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith(".ts")) {
        for (const match of readFileSync(path, "utf8").matchAll(SPECIFIER)) {
          const target = normalize(join(dirname(path), (match[1] as string).replace(/\.js$/, ".ts")));
          const from = placeOf(srcRoot, path);
          const to = placeOf(srcRoot, target);
          if (from !== to) edges.push({ from: relative(srcRoot, path), to: relative(srcRoot, target) });
        }
      }
    }
  };
  walk(srcRoot);
  return edges;
}

function layerOf(place: string): number {
  return LAYERS.findIndex((layer) => layer.includes(place));
}

/** The imports that break the rule, each as "from -> to", and the places that have no layer. */
export function violations(edges: readonly Edge[]): string[] {
  const problems: string[] = [];
  for (const { from, to } of edges) {
    const a = from.split(sep)[0] as string;
    const b = to.split(sep)[0] as string;
    const [la, lb] = [layerOf(a), layerOf(b)];
    if (la < 0) problems.push(`${a} has no layer`);
    else if (lb < 0) problems.push(`${b} has no layer`);
    else if (lb <= la) problems.push(`${from} -> ${to}`);
  }
  return [...new Set(problems)];
}
