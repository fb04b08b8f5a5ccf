import { defineConfig, type TestProjectInlineConfiguration } from "vitest/config";

/** The integration suite against a local stack whose deployments are reached through `api`. */
function integration(name: string, api: string, groupOrder: number): TestProjectInlineConfiguration {
  return {
    test: {
      name,
      include: ["test/integration/**/*.test.ts"],
      exclude: ["test/integration/fuzz.test.ts"],
      env: { TEST_MODEL_API: api },
      // One local stack (Azurite, emulator, functions host) for the whole run.
      globalSetup: ["test/support/global-setup.ts"],
      testTimeout: 30_000,
      hookTimeout: 60_000,
      // These tests start processes and hold ports; a few files at once is plenty on 2 cores.
      maxWorkers: 3,
      sequence: { groupOrder },
    },
  };
}

export default defineConfig({
  test: {
    projects: [
      {
        test: { name: "unit", include: ["test/unit/**/*.test.ts"], sequence: { groupOrder: 0 } },
      },
      integration("integration", "model-inference", 1),
      // The same suite, every deployment reached through Foundry's OpenAI v1 API (test/support/model-api.ts).
      integration("integration-openai-v1", "openai-v1", 2),
      {
        test: {
          // The chat page in Chromium (playwright-core driving Debian's chromium), against its own local stack.
          name: "browser",
          include: ["test/browser/**/*.test.ts"],
          env: { EMULATOR_TOKEN_DELAY_MS: "30" },
          globalSetup: ["test/support/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          maxWorkers: 1,
          sequence: { groupOrder: 3 },
        },
      },
      {
        test: {
          // Thousands of requests: alone, after the rest, so its load does not slow the others' timings.
          name: "fuzz",
          include: ["test/integration/fuzz.test.ts"],
          globalSetup: ["test/support/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 60_000,
          sequence: { groupOrder: 4 },
        },
      },
    ],
  },
});
