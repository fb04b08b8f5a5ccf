import { resolve } from "node:path";
import type { TestProject } from "vitest/node";
import { readSettingsFile } from "../../dev/stack/local-settings.js";
import { startLocalStack } from "../../dev/stack/local-stack.js";
import { freePort } from "../../dev/stack/processes.js";
import { type ModelApi, throughModelApi } from "./model-api.js";

/**
 * One local stack for the whole run, as `npm start` builds it (Azurite, emulator, functions host),
 * on free ports so it never collides with a developer's own `npm start`. Tests only read from this
 * stack's emulator; a test that injects faults starts an emulator of its own, since test files run
 * in parallel and would consume each other's faults.
 */
/**
 * Test files run in parallel, as the same caller against the same deployments, and their counts
 * would add up within a minute; tests of quotas set their own limits and table.
 */
const ROOMY_QUOTAS = {
  QUOTA_CALLER_REQUESTS_PER_MINUTE: "1000000",
  QUOTA_CALLER_TOKENS_PER_MINUTE: "100000000",
  MODEL_MISTRAL_LARGE_REQUESTS_PER_MINUTE: "1000000",
  MODEL_MISTRAL_LARGE_TOKENS_PER_MINUTE: "100000000",
  MODEL_MISTRAL_SMALL_REQUESTS_PER_MINUTE: "1000000",
  MODEL_MISTRAL_SMALL_TOKENS_PER_MINUTE: "100000000",
};

export default async function setup(project: TestProject) {
  const appRoot = resolve(__dirname, "..", "..");
  const api: ModelApi = project.config.env?.TEST_MODEL_API === "openai-v1" ? "openai-v1" : "model-inference";
  const sample = readSettingsFile(resolve(appRoot, "local.settings.sample.json"));
  const stack = await startLocalStack({
    appRoot,
    ports: {
      host: await freePort(),
      emulator: await freePort(),
      azurite: { blob: await freePort(), queue: await freePort(), table: await freePort() },
      web: { page: await freePort(), issuer: await freePort() },
    },
    // Always the sample: a developer's own local.settings.json may point at real Azure.
    // The stack rewrites the sample's emulator origin (localhost:7072) to the emulator it starts.
    settings: { ...throughModelApi(sample, "http://localhost:7072", api), ...ROOMY_QUOTAS },
    // The browser tests watch answers grow: their project sets a delay between tokens.
    emulatorEnv: { EMULATOR_TTFT_MS: "0", EMULATOR_TOKEN_DELAY_MS: project.config.env?.EMULATOR_TOKEN_DELAY_MS ?? "0" },
    echo: process.env.TEST_STACK_ECHO === "true",
  });
  project.provide("hostUrl", stack.hostUrl);
  project.provide("emulatorUrl", stack.emulatorUrl);
  project.provide("storageConnectionString", stack.storageConnectionString);
  project.provide("stackSettings", stack.settings);
  project.provide("pageUrl", stack.pageUrl ?? "");
  return () => stack.stop();
}

declare module "vitest" {
  export interface ProvidedContext {
    hostUrl: string;
    emulatorUrl: string;
    storageConnectionString: string;
    stackSettings: Record<string, string>;
    /** The chat page of the stack, signing users in with its local issuer. */
    pageUrl: string;
  }
}
