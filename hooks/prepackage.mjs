// azd `prepackage` hook of the `api` service: stages exactly what runs in Azure into `.deploy/`, which
// azure.yaml names as the service's `dist`. azd zips that folder and deploys it as it is (`remoteBuild: false`).
//
// NOTE: left to itself, azd zips the project folder, either with node_modules, dev dependencies included
// (test runners, the Azurite emulator, the compiler: several times the size of what runs), or without it,
// for a remote build that runs npm install and this project's build script on the server. Staging keeps the
// package to host.json, package.json and one bundle of the compiled app with every module it loads
// (esbuild): a Flex Consumption instance fetches the package on every cold start, and Node resolves one
// file at start-up instead of thousands. The production dependencies are plain JavaScript (test/unit/infra
// checks it), so a package staged on macOS or Windows runs on Linux.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";

export const STAGING_DIR = ".deploy";
/** Runs a command in `cwd`, inheriting the terminal; throws when it fails. */
export function runCommand(command, args, cwd) {
  // npm is npm.cmd on Windows, which only a shell can start.
  const result = spawnSync(command, args, { cwd, stdio: "inherit", shell: process.platform === "win32" });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed with exit code ${result.status}`);
}

/** What the staged package.json's `main` names: the one file the worker loads. */
export const BUNDLE = "dist/main.js";
/**
 * Modules the bundle leaves to the worker: `@azure/functions-core` is the worker's own (the seam the
 * library registers functions through), never a package on disk.
 */
const PROVIDED_BY_THE_WORKER = ["@azure/functions-core"];
/**
 * Packages the app requires only when a feature first needs them (telemetry, storage, a model API, Key
 * Vault, managed identity, tokens, output schemas' regular expressions): each is a bundle of its own in
 * the package's node_modules, so start-up parses none of them. Any of them another imports is shared,
 * not copied (one instance of each class). A package that another imports by a path inside it
 * (`x/dist/...`) cannot stand alone, and staging says so. test/unit/infra holds this list to the
 * app's lazy `require` calls.
 */
export const LOADED_ON_FIRST_USE = [
  "@azure-rest/ai-inference",
  "@azure/core-auth",
  "@azure/core-rest-pipeline",
  "@azure/core-sse",
  "@azure/data-tables",
  "@azure/identity",
  "@azure/keyvault-secrets",
  "@azure/storage-blob",
  "@azure/storage-queue",
  "@opentelemetry/api",
  "applicationinsights",
  "jose",
  "openai",
  "re2js",
  "undici",
];

/**
 * Packages that telemetry's distribution (`applicationinsights`) loads but the app never uses: the
 * instrumentations it turns off (startTelemetry.ts), and the OTLP, Prometheus and Zipkin exporters (with
 * their gRPC and protobuf stacks) that OpenTelemetry's Node SDK picks only when OTEL_*_EXPORTER says so;
 * the app sends to Application Insights alone. Each is staged as a stub that names itself if it is ever
 * used, which halves what telemetry parses at start-up.
 */
const NEVER_USED =
  /^(@opentelemetry\/(instrumentation-(mongodb|mysql|pg|redis|redis-4|bunyan|winston)|exporter-(trace|metrics|logs)-otlp-(grpc|http|proto)|exporter-prometheus|exporter-zipkin|otlp-grpc-exporter-base|otlp-exporter-base|otlp-transformer)|@grpc\/grpc-js|protobufjs)(\/.*)?$/;

/**
 * Builds the app and stages the deployment package in `outDir`: host.json, a package.json whose main
 * is the bundle, and the bundle. `run` runs the build.
 */
export async function stagePackage({ projectDir, outDir = join(projectDir, STAGING_DIR), run = runCommand }) {
  run("npm", ["run", "build"], projectDir);
  const compiled = join(projectDir, "dist", "src");
  const functions = join(compiled, "functions");
  if (!existsSync(join(compiled, "index.js")) || !existsSync(functions) || !readdirSync(functions).some((f) => f.endsWith(".js"))) {
    throw new Error("npm run build did not produce dist/src/index.js and dist/src/functions/*.js, which package.json's main names");
  }

  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  cpSync(join(projectDir, "host.json"), join(outDir, "host.json"));
  const manifest = JSON.parse(readFileSync(join(projectDir, "package.json"), "utf8"));
  // Nothing is installed, built or started by npm in Azure: the bundle holds every module it loads.
  const staged = { name: manifest.name, version: manifest.version, private: true, main: BUNDLE, engines: manifest.engines };
  writeFileSync(join(outDir, "package.json"), `${JSON.stringify(staged, null, 2)}\n`);
  const entry = appEntryFiles(compiled)
    .map((file) => `require(${JSON.stringify(file)});`)
    .join("\n");
  await bundle({ projectDir, entry, outFile: join(outDir, BUNDLE) });
  for (const name of LOADED_ON_FIRST_USE) {
    const folder = join(outDir, "node_modules", name);
    await bundle({ projectDir, entry: `module.exports = require(${JSON.stringify(name)});`, outFile: join(folder, "index.js"), own: name });
    writeFileSync(join(folder, "package.json"), `${JSON.stringify({ name, main: "index.js" }, null, 2)}\n`);
  }
  // A build artifact: invisible to git.
  writeFileSync(join(outDir, ".gitignore"), "*\n");
  writeFileSync(join(outDir, ".funcignore"), ".gitignore\n");
  return outDir;
}

/** What the project's package.json main names, in the order the worker loads it: the entry point, then each function. */
function appEntryFiles(compiled) {
  const functions = readdirSync(join(compiled, "functions"))
    .filter((file) => file.endsWith(".js"))
    .sort()
    .map((file) => join(compiled, "functions", file));
  return [join(compiled, "index.js"), ...functions];
}

/**
 * One CommonJS file for Node 20 with every module `entry` loads, but the worker's own and the packages
 * loaded on first use (`own`, when bundling one of those, is bundled).
 */
async function bundle({ projectDir, entry, outFile, own }) {
  // esbuild is a dev dependency of the project being staged, which azd packages from a full checkout.
  const { build } = createRequire(join(projectDir, "package.json"))("esbuild");
  await build({
    stdin: { contents: entry, resolveDir: projectDir, sourcefile: "main.js", loader: "js" },
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    outfile: outFile,
    external: PROVIDED_BY_THE_WORKER,
    plugins: [sharedPackages(projectDir, own), neverUsed()],
    // Less to parse at start-up (a third of the time telemetry takes to load); names are kept, so
    // stack traces still read.
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: "none",
    logLevel: "error",
  });
}

/** Stands a stub in for each package NEVER_USED names. */
function neverUsed() {
  return {
    name: "never-used",
    setup(build) {
      build.onResolve({ filter: NEVER_USED }, (args) => ({ path: args.path, namespace: "never-used" }));
      build.onLoad({ filter: /.*/, namespace: "never-used" }, (args) => ({
        // A function, not an arrow: a class may extend it when its module loads; only using it throws.
        contents: `function unused() { throw new Error(${JSON.stringify(`${args.path} is not in the deploy package: the app sends telemetry to Application Insights only`)}); };
module.exports = new Proxy({}, { get: (_, name) => (typeof name === "symbol" || name === "then" || name === "__esModule" ? undefined : unused) });`,
        loader: "js",
      }));
    },
  };
}

/** Leaves the packages loaded on first use to their own bundles, when what is imported is the one copy staged. */
function sharedPackages(projectDir, own) {
  const names = LOADED_ON_FIRST_USE.filter((name) => name !== own);
  const escaped = names.map((name) => name.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"));
  return {
    name: "shared-packages",
    setup(build) {
      build.onResolve({ filter: new RegExp(`^(${escaped.join("|")})(/.*)?$`) }, async (args) => {
        if (args.pluginData === "inner") return undefined;
        const name = names.find((n) => args.path === n || args.path.startsWith(`${n}/`));
        const resolved = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: "inner" });
        const staged = `${join(projectDir, "node_modules", name)}${sep}`;
        // Another version, nested under its importer: bundled with it, as npm would load it.
        if (resolved.errors.length > 0 || !resolved.path.startsWith(staged)) return undefined;
        if (args.path !== name) {
          return {
            errors: [
              { text: `${args.importer} imports ${args.path}, a path inside ${name}, which is bundled on its own: take ${name} out of LOADED_ON_FIRST_USE` },
            ],
          };
        }
        return { path: args.path, external: true };
      });
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    const outDir = await stagePackage({ projectDir: process.cwd() });
    console.log(`Staged the function app package in ${outDir}`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  }
}
