import { describe, expect, it } from "vitest";
import { checkReadiness } from "../../../src/health/readiness.js";
import { ModelError } from "../../../src/inference/index.js";
import type { Runtime } from "../../../src/runtime.js";

function runtime(parts: { callerKeys?: unknown[]; info?: () => Promise<unknown>; storage?: () => Promise<void> }): Runtime {
  return {
    config: { callerKeys: parts.callerKeys ?? [{ name: "dev", sha256: Buffer.alloc(32) }] },
    models: { all: () => [{ alias: "m", info: parts.info ?? (async () => ({})) }] },
    storage: { check: parts.storage ?? (async () => undefined) },
  } as unknown as Runtime;
}

describe("checkReadiness", () => {
  it("is ready when every check passes", async () => {
    const readiness = await checkReadiness(runtime({}));
    expect(readiness.status).toBe("ready");
    expect(readiness.checks.map((c) => `${c.name}:${c.status}`)).toEqual(["config:ok", "model:m:ok", "storage:ok"]);
  });

  it("names each failed check with a safe detail", async () => {
    const readiness = await checkReadiness(
      runtime({
        callerKeys: [],
        info: async () => {
          throw new ModelError({ kind: "upstream", status: 401, code: "unauthorized", message: "Access denied." });
        },
        storage: async () => {
          throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:10002"), { code: "ECONNREFUSED" });
        },
      }),
    );
    expect(readiness.status).toBe("not_ready");
    expect(readiness.checks.map(({ name, status, detail }) => ({ name, status, detail }))).toEqual([
      { name: "config", status: "failed", detail: "no caller keys are configured (CALLER_KEYS), so every request is refused" },
      { name: "model:m", status: "failed", detail: "unauthorized: Access denied." },
      { name: "storage", status: "failed", detail: "unreachable (ECONNREFUSED)" },
    ]);
  });
});
