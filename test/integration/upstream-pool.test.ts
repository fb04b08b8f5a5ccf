import type { Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Secret } from "../../src/config/index.js";
import { DeploymentPort } from "../../src/inference/deployment-port.js";
import { UndiciHttpClient } from "../../src/inference/undici-http-client.js";
import { EMULATOR_KEY, seed, startEmulator } from "../support/emulator.js";

/**
 * The app's connections to a model endpoint (MODEL_MAX_CONNECTIONS, MODEL_CONNECTION_IDLE_MS): a burst opens
 * at most the configured number, the rest wait for one and still succeed, and once the burst is over the idle
 * connections are closed after the idle time rather than kept.
 */
let emulator: Awaited<ReturnType<typeof startEmulator>>;
const open = new Set<Socket>();
let mostOpen = 0;
let accepted = 0;

beforeAll(async () => {
  emulator = await startEmulator({ timing: { ttftMs: 150, tokenDelayMs: 0 } });
  emulator.emulator.server.on("connection", (socket: Socket) => {
    accepted++;
    open.add(socket);
    mostOpen = Math.max(mostOpen, open.size);
    socket.once("close", () => open.delete(socket));
  });
});
afterAll(() => emulator?.close());

function port(client: UndiciHttpClient) {
  return new DeploymentPort({
    deployment: {
      alias: "mistral-large",
      endpoint: `${emulator.url}/mistral-large`,
      model: "Mistral-Large",
      api: "model-inference",
      apiVersion: "2025-04-01",
      credential: { kind: "key", key: new Secret(EMULATOR_KEY) },
    },
    timeouts: { attemptMs: 10_000, idleMs: 10_000 },
    httpClient: client,
  });
}

describe("the connection pool to a model endpoint", () => {
  it("opens at most the configured connections for a burst, queues the rest, and closes them all once idle", async () => {
    const client = new UndiciHttpClient({ outerTimeoutMs: 30_000, connectionsPerOrigin: 4, idleMs: 1_000 });
    try {
      const model = port(client);
      const answers = await Promise.all(Array.from({ length: 12 }, () => model.complete(seed("chat.request"))));
      expect(answers.every((a) => a.choices.length === 1)).toBe(true);
      expect(mostOpen).toBeLessThanOrEqual(4);
      expect(accepted).toBeLessThanOrEqual(4);
      // Three rounds of four, each ~150 ms: the waiting ones reused the connections rather than opening more.
      expect(open.size).toBeGreaterThan(0);
      await expect.poll(() => open.size, { timeout: 5_000, interval: 100 }).toBe(0);
    } finally {
      await client.close();
    }
  });

  it("is unbounded without a limit, as before, and the idle time still applies", async () => {
    const before = accepted;
    const client = new UndiciHttpClient({ outerTimeoutMs: 30_000, idleMs: 1_000 });
    try {
      const model = port(client);
      await Promise.all(Array.from({ length: 10 }, () => model.complete(seed("chat.request"))));
      expect(accepted - before).toBe(10);
      await expect.poll(() => open.size, { timeout: 5_000, interval: 100 }).toBe(0);
    } finally {
      await client.close();
    }
  });
});
