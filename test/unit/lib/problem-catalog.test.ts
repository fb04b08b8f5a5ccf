import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ModelError } from "../../../src/lib/model-error.js";
import { HttpProblem } from "../../../src/lib/problem.js";
import { PROBLEM_CATALOG } from "../../../src/lib/problem-catalog.js";
import { toProblem } from "../../../src/lib/to-problem.js";
import { openApiDocument } from "../../../src/openapi/document.js";

const ROOT = resolve(__dirname, "..", "..", "..");
const sources = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith(".ts") ? [path] : [];
  });

describe("the problem catalog", () => {
  it("lists every code the code answers with", () => {
    const used = new Set<string>();
    for (const file of sources(join(ROOT, "src"))) {
      for (const match of readFileSync(file, "utf8").matchAll(/code: "([a-z_]+)"/g)) used.add(match[1] as string);
    }
    const missing = [...used].filter((code) => !(code in PROBLEM_CATALOG));
    expect(missing).toEqual([]);
  });

  it("is the table of docs/errors.md, row for row", () => {
    const page = readFileSync(join(ROOT, "docs", "errors.md"), "utf8");
    const rows = [...page.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \| (.+) \|$/gm)].map(([, code, status, meaning]) => ({ code, status: Number(status), meaning }));
    expect(rows).toEqual(Object.entries(PROBLEM_CATALOG).map(([code, entry]) => ({ code, status: entry.status, meaning: entry.meaning })));
  });

  it("describes the OpenAPI document's error answers", () => {
    const doc = openApiDocument({ host: "localhost", scheme: "http" }) as {
      paths: Record<string, Record<string, { responses: Record<string, { description: string }> }>>;
    };
    const chat = doc.paths["/chat"]?.post?.responses ?? {};
    for (const [code, entry] of Object.entries(PROBLEM_CATALOG)) {
      const answer = chat[String(entry.status)];
      if (answer) expect(answer.description, code).toContain(code);
    }
  });

  it("gives each problem its catalog title, and keeps what caused a 500 for the log", () => {
    expect(new HttpProblem({ status: 504, code: "upstream_timeout", detail: "late" }).title).toBe("Gateway Timeout");
    const bug = new TypeError("x is undefined");
    const problem = toProblem(bug);
    expect(problem).toMatchObject({ status: 500, code: "internal_error" });
    expect(problem.cause).toBe(bug);
    expect(problem.detail).not.toContain("undefined");
    const filtered = new ModelError({ kind: "upstream", status: 400, code: "content_filter", message: "blocked" });
    expect(toProblem(filtered, { route: "app" }).code).toBe("content_filtered");
    expect(toProblem(filtered, { route: "dropin" }).code).toBe("content_filter");
  });
});
