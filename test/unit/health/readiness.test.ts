import { describe, expect, it } from "vitest";
import { CredentialError } from "../../../src/credentials/credential-error.js";
import { checkReadiness } from "../../../src/health/readiness.js";
import { ModelError } from "../../../src/inference/index.js";
import type { Runtime } from "../../../src/runtime.js";

interface Parts {
  callerKeys?: unknown[];
  platformAuth?: boolean;
  signedInUsers?: unknown;
  unresolvedSettings?: string[];
  credential?: () => Promise<void>;
  info?: () => Promise<unknown>;
  storage?: () => Promise<void>;
  queue?: () => Promise<void>;
}

function runtime(parts: Parts): Runtime {
  return {
    config: {
      callerKeys: parts.callerKeys ?? [{ name: "dev", sha256: Buffer.alloc(32) }],
      platformAuth: parts.platformAuth ?? false,
      signedInUsers: parts.signedInUsers,
      unresolvedSettings: parts.unresolvedSettings ?? [],
    },
    credentials: new Map([["m", { check: parts.credential ?? (async () => undefined) }]]),
    models: { all: () => [{ alias: "m", api: "openai-v1", info: parts.info ?? (async () => ({})) }] },
    storage: { check: parts.storage ?? (async () => undefined) },
    jobs: { queue: { check: parts.queue ?? (async () => undefined) } },
  } as unknown as Runtime;
}

describe("checkReadiness", () => {
  it("is ready when every check passes", async () => {
    const readiness = await checkReadiness(runtime({}));
    expect(readiness.status).toBe("ready");
    expect(readiness.checks.map((c) => `${c.name}:${c.status}`)).toEqual(["config:ok", "credential:m:ok", "model:m:ok", "storage:ok", "queue:ok"]);
    // A deployment's check names the model API it is reached through.
    expect(readiness.checks.find((c) => c.name === "model:m")?.api).toBe("openai-v1");
  });

  it("names each failed check with a safe detail", async () => {
    const readiness = await checkReadiness(
      runtime({
        callerKeys: [],
        credential: async () => {
          throw new CredentialError("MODEL_M_KEY_SECRET_URI: Key Vault denied access (403)");
        },
        info: async () => {
          throw new ModelError({ kind: "upstream", status: 401, code: "unauthorized", message: "Access denied." });
        },
        storage: async () => {
          throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:10002"), { code: "ECONNREFUSED" });
        },
        queue: async () => {
          throw Object.assign(new Error("This request is not authorized to perform this operation using this permission."), { statusCode: 403 });
        },
      }),
    );
    expect(readiness.status).toBe("not_ready");
    expect(readiness.checks.map(({ name, status, detail }) => ({ name, status, detail }))).toEqual([
      {
        name: "config",
        status: "failed",
        detail:
          "no caller keys are configured (CALLER_KEYS), signed-in users are off (ENTRA_TENANT_ID) and platform authentication is off, so every request is refused",
      },
      { name: "credential:m", status: "failed", detail: "MODEL_M_KEY_SECRET_URI: Key Vault denied access (403)" },
      { name: "model:m", status: "failed", detail: "unauthorized: Access denied." },
      { name: "storage", status: "failed", detail: "unreachable (ECONNREFUSED)" },
      { name: "queue", status: "failed", detail: "the service answered 403" },
    ]);
  });

  it("names unresolved Key Vault references, and accepts platform authentication instead of keys", async () => {
    const unresolved = await checkReadiness(runtime({ unresolvedSettings: ["CALLER_KEYS"] }));
    expect(unresolved.checks[0]).toMatchObject({
      name: "config",
      status: "failed",
      detail: expect.stringContaining("unresolved Key Vault references in CALLER_KEYS"),
    });
    const signInOnly = await checkReadiness(runtime({ callerKeys: [], platformAuth: true }));
    expect(signInOnly.status).toBe("ready");
    const tokensOnly = await checkReadiness(
      runtime({ callerKeys: [], signedInUsers: { tenantId: "t", audiences: ["a"], role: "Chat.Use", authority: "https://login.microsoftonline.com/t/v2.0" } }),
    );
    expect(tokensOnly.status).toBe("ready");
  });
});
