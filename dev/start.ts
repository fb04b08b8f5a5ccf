import { resolve } from "node:path";
import { DEFAULT_AZURITE_PORTS, readLocalSettings } from "./stack/local-settings.js";
import { type LocalStack, startLocalStack } from "./stack/local-stack.js";

/**
 * `npm start`: Azurite, the model emulator, the functions, the chat page and its local sign-in issuer on
 * one machine, no Azure account. Ctrl-C stops them all.
 */
const appRoot = resolve(__dirname, "..", "..");
const env = process.env;
const port = (name: string, fallback: number) => Number(env[name] ?? fallback);

let stack: LocalStack | undefined;
let stopping = false;

async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log("\nStopping the local stack...");
  await stack?.stop();
  console.log("Stopped.");
  process.exit(code);
}

async function main(): Promise<void> {
  const local = readLocalSettings(appRoot, env.LOCAL_SETTINGS);
  // The shell's environment wins over the settings file, as it does for the deployed app's settings.
  const settings = Object.fromEntries(Object.entries(local.values).map(([k, v]) => [k, env[k] ?? v]));
  stack = await startLocalStack({
    appRoot,
    ports: {
      host: port("PORT", 7071),
      emulator: port("EMULATOR_PORT", 7072),
      azurite: {
        blob: port("AZURITE_BLOB_PORT", DEFAULT_AZURITE_PORTS.blob),
        queue: port("AZURITE_QUEUE_PORT", DEFAULT_AZURITE_PORTS.queue),
        table: port("AZURITE_TABLE_PORT", DEFAULT_AZURITE_PORTS.table),
      },
      web: { page: port("WEB_PORT", 4280), issuer: port("ISSUER_PORT", 4281) },
    },
    settings,
    emulatorEnv: {
      EMULATOR_TTFT_MS: env.EMULATOR_TTFT_MS ?? "200",
      EMULATOR_TOKEN_DELAY_MS: env.EMULATOR_TOKEN_DELAY_MS ?? "20",
      ...(env.EMULATOR_KEY ? { EMULATOR_KEY: env.EMULATOR_KEY } : {}),
    },
    echo: true,
    onUnexpectedExit: (service, code) => {
      // During start-up, startLocalStack notices the exit itself, stops the rest and fails.
      if (!stack) return;
      console.error(`\n${service.name} exited unexpectedly (code ${code}); stopping the rest.`);
      void shutdown(1);
    },
  });

  const api = `${stack.hostUrl}/api`;
  console.log(`
Local stack is up (settings from ${local.file.slice(appRoot.length + 1)}):
  Chat page    ${stack.pageUrl}  (sign in with any user name; the sign-in page is https, accept its local certificate)
  Functions    ${api}
  Emulator     ${stack.emulatorUrl}  (admin API: ${stack.emulatorUrl}/_emulator)
  Azurite      ${stack.startedAzurite ? "started on" : "already running on"} ports ${port("AZURITE_BLOB_PORT", 10000)}-${port("AZURITE_TABLE_PORT", 10002)}

Try it (dev-key is the local-only caller key):
  curl ${api}/health
  curl ${api}/health/ready
  curl -H "api-key: dev-key" ${api}/info
  curl -H "api-key: dev-key" -H "content-type: application/json" ${api}/chat/completions \\
    -d '{"messages": [{"role": "user", "content": "How many languages are in the world?"}]}'

Press Ctrl-C to stop.
`);

  process.on("SIGINT", () => void shutdown(0));
  process.on("SIGTERM", () => void shutdown(0));
}

main().catch((error: Error) => {
  console.error(`npm start failed: ${error.message}`);
  process.exit(1);
});
