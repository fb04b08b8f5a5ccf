import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { globSync } from "tinyglobby";

/** The app's entry files: package.json `main`, which may be a glob, as the worker resolves it. */
export function entryPoints(appRoot: string): string[] {
  const pkg = JSON.parse(readFileSync(join(appRoot, "package.json"), "utf8")) as { main?: string };
  const main = pkg.main ?? "index.js";
  const files = globSync(main, { cwd: appRoot, absolute: true }).sort();
  if (files.length === 0) throw new Error(`package.json "main" (${main}) matches no files; run the build first.`);
  return files;
}

/** `extensions.http.routePrefix` from host.json: "api" unless set (an empty string means none). */
export function routePrefix(appRoot: string): string {
  try {
    const hostJson = JSON.parse(readFileSync(resolve(appRoot, "host.json"), "utf8")) as {
      extensions?: { http?: { routePrefix?: string } };
    };
    return hostJson.extensions?.http?.routePrefix ?? "api";
  } catch {
    return "api";
  }
}

/**
 * The app's own copy of `@azure/functions`, so its classes are the ones the app's handlers see; a
 * bundled app (the deploy package) carries its copy inside the bundle, so the host's copy stands in:
 * what the host builds from it are plain requests, contexts and responses to the app.
 */
export function functionsLibrary(appRoot: string): unknown {
  try {
    return createRequire(join(appRoot, "package.json"))("@azure/functions");
  } catch {
    return require("@azure/functions");
  }
}
