import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { freePort } from "../../dev/stack/processes.js";
import { startEmulator } from "../support/emulator.js";
import { startHost } from "../support/host.js";
import { endpointOf, upstreamModel } from "../support/model-api.js";

/**
 * A host whose mistral-small deployment and storage cannot be reached: readiness names what failed,
 * /info still answers for the deployment that works.
 */
let host: Awaited<ReturnType<typeof startHost>>;
let emulator: Awaited<ReturnType<typeof startEmulator>>;

beforeAll(async () => {
  emulator = await startEmulator();
  const deadPort = await freePort();
  host = await startHost({
    ...inject("stackSettings"),
    MODEL_MISTRAL_LARGE_ENDPOINT: endpointOf(emulator.url, "mistral-large"),
    MODEL_MISTRAL_SMALL_ENDPOINT: endpointOf(`http://localhost:${deadPort}`, "mistral-small"),
    AzureWebJobsStorage: `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=AAAA;TableEndpoint=http://127.0.0.1:${deadPort}/devstoreaccount1`,
  });
});
afterAll(async () => {
  await host?.stop();
  await emulator?.close();
});

describe("readiness with failing dependencies", () => {
  it("answers 503 naming each failed check, with details that hold no address or key", async () => {
    const response = await fetch(`${host.url}/api/health/ready`);
    expect(response.status).toBe(503);
    const body = (await response.json()) as any;
    expect(body.status).toBe("not_ready");
    const byName = Object.fromEntries(body.checks.map((c: { name: string }) => [c.name, c]));
    expect(byName.config.status).toBe("ok");
    expect(byName["model:mistral-large"].status).toBe("ok");
    expect(byName["model:mistral-small"]).toMatchObject({ status: "failed", detail: "upstream_unreachable: The model endpoint could not be reached." });
    expect(byName.storage).toMatchObject({ status: "failed" });
    expect(byName.queue).toMatchObject({ status: "failed" });
    const text = JSON.stringify(body);
    expect(text).not.toMatch(/localhost|127\.0\.0\.1|emulator-key|AccountKey/);
  });

  it("answers 502 from /info when no deployment answers, listing why for each", async () => {
    await fetch(`${emulator.url}/_emulator/faults`, {
      method: "POST",
      body: JSON.stringify({ faults: [{ match: { path: "/info" }, status: 401 }] }),
    });
    const response = await fetch(`${host.url}/api/info`, { headers: { "api-key": "dev-key" } });
    expect(response.status).toBe(502);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    const body = (await response.json()) as any;
    expect(body.code).toBe("upstream_unavailable");
    expect(body.deployments).toEqual([
      { alias: "mistral-large", default: true, error: { code: "http_401", message: "Injected fault: status 401." } },
      { alias: "mistral-small", default: false, error: { code: "upstream_unreachable", message: "The model endpoint could not be reached." } },
    ]);
  });

  it("answers 200 from /info when one deployment answers, listing the other's error", async () => {
    const response = await fetch(`${host.url}/api/info`, { headers: { "api-key": "dev-key" } });
    expect(response.status).toBe(200);
    const { deployments } = (await response.json()) as any;
    expect(deployments[0]).toEqual({
      alias: "mistral-large",
      default: true,
      model_name: upstreamModel("mistral-large"),
      model_type: "chat-completions",
      model_provider_name: "MistralAI",
    });
    expect(deployments[1]).toMatchObject({ alias: "mistral-small", error: { code: "upstream_unreachable" } });
  });
});
