import { ModelEmulator } from "./emulator.js";
import { loadScenarios } from "./scenarios.js";

/** `node dist/dev/emulator/main.js`: the model emulator on EMULATOR_PORT (default 7072). */
const env = process.env;
const port = Number(env.EMULATOR_PORT ?? 7072);
let scenarios: ReturnType<typeof loadScenarios>;
try {
  scenarios = loadScenarios(env.EMULATOR_SCENARIOS);
} catch (error) {
  console.error(`Model emulator: EMULATOR_SCENARIOS: ${(error as Error).message}`);
  process.exit(1);
}
// With the local identity endpoint's signing key, its tokens (Foundry's audience by default) are accepted too.
const entraKey = env.EMULATOR_ENTRA_SIGNING_KEY;
const emulator = new ModelEmulator({
  key: env.EMULATOR_KEY ?? "emulator-key",
  ...(entraKey ? { entra: { signingKey: entraKey, audience: env.EMULATOR_ENTRA_AUDIENCE ?? "https://cognitiveservices.azure.com" } } : {}),
  scenarios,
  timing: { ttftMs: Number(env.EMULATOR_TTFT_MS ?? 0), tokenDelayMs: Number(env.EMULATOR_TOKEN_DELAY_MS ?? 0) },
});

emulator
  .listen(port, env.EMULATOR_HOST ?? "127.0.0.1")
  .then((url) => console.log(`Model emulator listening on ${url} (deployments: /mistral-large, /mistral-small)`))
  .catch((error: Error) => {
    console.error(`Model emulator could not start on port ${port}: ${error.message}`);
    process.exit(1);
  });

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void emulator.close().then(() => process.exit(0));
  });
}
