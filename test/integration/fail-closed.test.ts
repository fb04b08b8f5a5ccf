import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type startHost, useOwnApp } from "../support/host.js";
import { upstreamDeployment } from "../support/model-api.js";

const REFERENCE = "@Microsoft.KeyVault(SecretUri=https://vault-x.vault.azure.net/secrets/large-key/abc)";

/**
 * A model key the platform could not resolve from Key Vault: the app still starts, readiness names
 * the setting, calls to that deployment fail with a 503, and the reference never goes upstream.
 */
describe("an unresolved Key Vault reference", () => {
  const app = useOwnApp({ MODEL_MISTRAL_LARGE_KEY: REFERENCE });
  let output = "";
  let host: Awaited<ReturnType<typeof startHost>>;
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  beforeAll(() => {
    host = app.host;
    host.service.child.stdout?.on("data", collect);
    host.service.child.stderr?.on("data", collect);
  });
  afterAll(() => {
    host.service.child.stdout?.off("data", collect);
  });

  it("fails readiness with the setting named, and only that deployment's credential check", async () => {
    const response = await fetch(`${app.host.url}/api/health/ready`);
    expect(response.status).toBe(503);
    const { checks } = (await response.json()) as { checks: { name: string; status: string; detail?: string }[] };
    const failed = checks.filter((c) => c.status === "failed");
    expect(failed.map((c) => c.name)).toEqual(["config", "credential:mistral-large", "model:mistral-large"]);
    expect(failed[0]?.detail).toContain("unresolved Key Vault references in MODEL_MISTRAL_LARGE_KEY");
    expect(JSON.stringify(checks)).not.toContain("vault-x");
  });

  it("answers model calls with a 503 and sends nothing upstream, while other deployments work", async () => {
    const ask = (model: string) =>
      fetch(`${app.host.url}/api/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", "api-key": "dev-key" },
        body: JSON.stringify({ model, messages: [{ role: "user", content: "Hi" }], max_tokens: 5 }),
      });
    const refused = await ask("mistral-large");
    expect(refused.status).toBe(503);
    const body = await refused.text();
    expect(JSON.parse(body)).toMatchObject({ error: { code: "model_credential_unavailable" } });
    expect(body).not.toContain("vault-x");
    expect((await ask("mistral-small")).status).toBe(200);
    const upstream = app.emulator.emulator.log.entries();
    expect(upstream.map(upstreamDeployment)).toEqual(["mistral-small"]);
    expect(output).not.toContain("vault-x");
  });
});
