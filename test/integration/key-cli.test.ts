import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { HttpRequest } from "@azure/functions";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { authenticateCaller } from "../../src/http/caller-auth.js";
import { APP_ROOT } from "../support/host.js";

const run = promisify(execFile);
const CLI = join(APP_ROOT, "dist", "src", "cli", "key.js");

const baseEnv = {
  MODEL_DEPLOYMENTS: "m",
  MODEL_M_ENDPOINT: "http://localhost:7072/m",
  MODEL_M_MODEL: "M",
  MODEL_M_KEY: "k",
  AzureWebJobsStorage: "UseDevelopmentStorage=true",
};

const asCaller = (key: string, entry: string) =>
  authenticateCaller(new HttpRequest({ url: "http://localhost/api/chat", method: "POST", headers: { "api-key": key } }), {
    keys: loadConfig({ ...baseEnv, CALLER_KEYS: entry }).callerKeys,
    platformAuth: false,
  });

describe("npm run key", () => {
  it("creates a key once and the CALLER_KEYS entry that lets exactly that key in", async () => {
    const first = await run(process.execPath, [CLI, "create", "logic-app"]);
    const second = await run(process.execPath, [CLI, "create", "logic-app"]);
    const key = /^\s+(mfk_[A-Za-z0-9_-]{43})$/m.exec(first.stdout)?.[1];
    const entry = /^\s+(logic-app:[0-9a-f]{64})$/m.exec(first.stdout)?.[1];
    expect(key && entry).toBeTruthy();
    expect(second.stdout).not.toContain(key);
    expect(await asCaller(key as string, entry as string)).toEqual({ id: "key:logic-app", keyName: "logic-app" });
    expect(await asCaller(`${key}x`, entry as string)).toBeUndefined();
    // Only the hash is what the app stores: the entry does not contain the key.
    expect(entry).not.toContain((key as string).slice(4));
  });

  it("hashes an existing key read from stdin", async () => {
    const child = run(process.execPath, [CLI, "hash", "ci"]);
    child.child.stdin?.end("mfk_existing\n");
    const { stdout } = await child;
    expect(await asCaller("mfk_existing", stdout.trim())).toEqual({ id: "key:ci", keyName: "ci" });
  });

  it("refuses bad names and commands with usage and exit code 2", async () => {
    for (const args of [["create", "bad name"], ["delete", "x"], ["create"]]) {
      const failure = await run(process.execPath, [CLI, ...args]).then(
        () => undefined,
        (error: { code: number; stderr: string }) => error,
      );
      expect(failure?.code).toBe(2);
      expect(failure?.stderr).toContain("Usage: npm run key -- create NAME");
    }
  });
});
