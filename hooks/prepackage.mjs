// azd `prepackage` hook of the `api` service: stages exactly what runs in Azure into `.deploy/`, which
// azure.yaml names as the service's `dist`. azd zips that folder and deploys it as it is (`remoteBuild: false`).
//
// NOTE: left to itself, azd zips the project folder, either with node_modules, dev dependencies included
// (test runners, the Azurite emulator, the compiler: several times the size of what runs), or without it,
// for a remote build that runs npm install and this project's build script on the server. Staging keeps the
// package to host.json, package.json, the compiled app and its production dependencies, which are plain
// JavaScript (test/unit/infra checks it), so a package staged on macOS or Windows runs on Linux.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

export const STAGING_DIR = ".deploy";

/** Runs a command in `cwd`, inheriting the terminal; throws when it fails. */
export function runCommand(command, args, cwd) {
  // npm is npm.cmd on Windows, which only a shell can start.
  const result = spawnSync(command, args, { cwd, stdio: "inherit", shell: process.platform === "win32" });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed with exit code ${result.status}`);
}

/**
 * Builds the app and stages the deployment package in `outDir`. `run` runs the two npm commands (the
 * build, and the install of production dependencies in the staging folder).
 */
export function stagePackage({ projectDir, outDir = join(projectDir, STAGING_DIR), run = runCommand }) {
  run("npm", ["run", "build"], projectDir);
  const compiled = join(projectDir, "dist", "src");
  const functions = join(compiled, "functions");
  if (!existsSync(join(compiled, "index.js")) || !existsSync(functions) || !readdirSync(functions).some((f) => f.endsWith(".js"))) {
    throw new Error("npm run build did not produce dist/src/index.js and dist/src/functions/*.js, which package.json's main names");
  }

  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  cpSync(join(projectDir, "host.json"), join(outDir, "host.json"));
  cpSync(join(projectDir, "package-lock.json"), join(outDir, "package-lock.json"));
  const manifest = JSON.parse(readFileSync(join(projectDir, "package.json"), "utf8"));
  // Nothing is built or started by npm in Azure; the dependency lists stay whole so npm ci accepts the lock.
  delete manifest.scripts;
  writeFileSync(join(outDir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  cpSync(compiled, join(outDir, "dist", "src"), { recursive: true });
  // A build artifact: invisible to git. With an ignore file of its own, azd zips node_modules too.
  writeFileSync(join(outDir, ".gitignore"), "*\n");
  writeFileSync(join(outDir, ".funcignore"), ".gitignore\n");

  run("npm", ["ci", "--omit=dev", "--ignore-scripts", "--no-bin-links", "--no-audit", "--no-fund"], outDir);
  return outDir;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    const outDir = stagePackage({ projectDir: process.cwd() });
    console.log(`Staged the function app package in ${outDir}`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  }
}
