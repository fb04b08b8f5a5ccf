import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

/** The repository's root, from dist/dev/infra or dev/infra. */
export const REPO_ROOT = resolve(__dirname, "..", "..", ...(__dirname.includes(`${join("dist", "dev")}`) ? [".."] : []));
const PROJECT = join(REPO_ROOT, "infra", "bicep", "bicep-cli.csproj");
const PACKAGES = join(REPO_ROOT, "infra", "bicep", ".packages");

/** The Bicep version the restore project pins. */
export function pinnedVersion(): string {
  const match = /Azure\.Bicep\.CommandLine\.linux-x64" Version="\[([^\]]+)\]"/.exec(readFileSync(PROJECT, "utf8"));
  if (!match?.[1]) throw new Error(`${PROJECT} pins no Bicep version`);
  return match[1];
}

/** Where the restored compiler is, whether or not it is there yet. */
export function bicepPath(): string {
  return join(PACKAGES, "azure.bicep.commandline.linux-x64", pinnedVersion(), "tools", "bicep");
}

/**
 * The pinned Bicep compiler, restored from NuGet on first use. Throws with the reason when it cannot be
 * had (no .NET SDK, NuGet unreachable, not Linux x64).
 */
export function ensureBicep(): string {
  const path = bicepPath();
  if (existsSync(path)) return path;
  if (process.platform !== "linux" || process.arch !== "x64")
    throw new Error(`the pinned Bicep package is for Linux x64, not ${process.platform} ${process.arch}`);
  // Bounded: without NuGet a restore would otherwise wait on the network for minutes.
  const restore = spawnSync("dotnet", ["restore", PROJECT, "--packages", PACKAGES], { encoding: "utf8", timeout: 180_000 });
  if (restore.error) throw new Error(`the .NET SDK is needed to restore it from NuGet (${restore.error.message})`);
  if (restore.status !== 0) throw new Error(`dotnet restore failed:\n${restore.stdout}${restore.stderr}`);
  if (!existsSync(path)) throw new Error(`dotnet restore did not produce ${path}`);
  return path;
}

/** The compiler, if it is restored already: for tests, which never restore it themselves. */
export function restoredBicep(): string | undefined {
  const path = bicepPath();
  return existsSync(path) ? path : undefined;
}

export interface BicepRun {
  status: number | null;
  /** Everything it printed: diagnostics go to stderr, `--stdout` output to stdout. */
  stdout: string;
  stderr: string;
}

export function runBicep(bicep: string, args: string[]): BicepRun {
  const run = spawnSync(bicep, args, {
    encoding: "utf8",
    cwd: REPO_ROOT,
    env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: "1" },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.error) throw run.error;
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}
