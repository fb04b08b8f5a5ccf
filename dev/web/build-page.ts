import { copyFileSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";

/**
 * Builds the chat page (web/) into dist/web: web/src/main.ts and what it imports bundled by esbuild into one
 * minified ES module (`app.js`, with its source map), beside index.html and styles.css. The app's types the
 * page's client imports are types only, so no app code is bundled.
 */
export async function buildPage(appRoot: string, outDir = join(appRoot, "dist", "web")): Promise<string> {
  const esbuild = require("esbuild") as typeof import("esbuild");
  mkdirSync(outDir, { recursive: true });
  await esbuild.build({
    entryPoints: [join(appRoot, "web", "src", "main.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: ["es2022"],
    minify: true,
    sourcemap: true,
    outfile: join(outDir, "app.js"),
    logLevel: "warning",
  });
  for (const file of ["index.html", "styles.css"]) copyFileSync(join(appRoot, "web", file), join(outDir, file));
  return outDir;
}

if (process.argv[1]?.endsWith("build-page.js")) {
  buildPage(resolve(process.cwd())).then(
    (dir) => console.log(`page built in ${dir}`),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
