import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

const PRELOAD = resolve(__dirname, "../../../dist/src/inference/preload-model-apis.js");

/** Which model packages a fresh process has loaded after preloading for deployments of these APIs. */
function loadedAfterPreload(apis: string[], quotas = false): string[] {
  const script = `
    require(${JSON.stringify(PRELOAD)}).preloadModelApis(${JSON.stringify(apis.map((api) => ({ api })))}, { quotas: ${quotas} }).then(() => {
      const names = ["openai", "@azure-rest/ai-inference", "@azure/core-sse", "undici", "@azure/core-rest-pipeline", "@azure/data-tables"];
      const loaded = Object.keys(require.cache);
      console.log(JSON.stringify(names.filter((name) => loaded.some((path) => path.includes("/node_modules/" + name + "/")))));
    });
  `;
  return JSON.parse(execFileSync(process.execPath, ["-e", script], { encoding: "utf8" }));
}

describe("preloadModelApis", () => {
  it("loads the SDK of each API the deployments use, and the transport, and no other", () => {
    expect(loadedAfterPreload(["model-inference"]).sort()).toEqual(["@azure-rest/ai-inference", "@azure/core-rest-pipeline", "@azure/core-sse", "undici"]);
    expect(loadedAfterPreload(["openai-v1"]).sort()).toEqual(["@azure/core-rest-pipeline", "openai", "undici"]);
    expect(loadedAfterPreload([])).toEqual([]);
  });

  it("with quotas on, loads the Table Storage client the first admission takes its lease through", () => {
    expect(loadedAfterPreload(["model-inference"], true)).toContain("@azure/data-tables");
    expect(loadedAfterPreload(["model-inference"], false)).not.toContain("@azure/data-tables");
  });
});
