import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, inject, it } from "vitest";

/**
 * Every example of docs/api/sdks.md, run as a reader would run it (an ES module, `API_BASE_URL` and
 * `CALLER_KEY` set) against the local stack: it must finish and print the model's answers.
 */
const ROOT = resolve(__dirname, "..", "..");
const page = readFileSync(resolve(ROOT, "docs", "api", "sdks.md"), "utf8");
const examples = [...page.matchAll(/```js\n\/\/ example: ([\w-]+)\n([\s\S]*?)```/g)].map(([, name, code]) => ({ name: name as string, code: code as string }));

function runExample(code: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // From standard input, an ES module resolves its imports from the working directory: the project's packages.
  const child = spawn(process.execPath, ["--input-type=module"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", API_BASE_URL: `${inject("hostUrl")}/api`, CALLER_KEY: "dev-key" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (data: Buffer) => (stdout += data.toString()));
  child.stderr.on("data", (data: Buffer) => (stderr += data.toString()));
  child.stdin.end(code);
  return new Promise((done) => child.once("close", (exit) => done({ code: exit, stdout, stderr })));
}

describe("docs/api/sdks.md", () => {
  it("has an example for each client the page names", () => {
    expect(examples.map((e) => e.name)).toEqual(["openai", "azure-rest-ai-inference", "mistralai", "langchain"]);
  });

  it.each(examples.map((e) => [e.name, e.code] as const))("runs the %s example against the app", async (_name, code) => {
    const result = await runExample(code);
    expect(result.code, result.stderr).toBe(0);
    // The emulator's answers: each example prints at least one of them.
    expect(result.stdout).toMatch(/emulated answer|languages/i);
    expect(result.stdout.trim().length).toBeGreaterThan(20);
  });
});
