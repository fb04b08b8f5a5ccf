import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";

export interface Service {
  name: string;
  child: ChildProcess;
  /** Output so far, for error messages when it fails to start. */
  output(): string;
  /** SIGTERM, then SIGKILL after a grace period; resolves once the process is gone. */
  stop(): Promise<void>;
}

export interface SpawnOptions {
  env: NodeJS.ProcessEnv;
  /** Print the service's output with a name prefix (npm start); otherwise keep it for diagnostics. */
  echo: boolean;
  cwd?: string;
}

const KEEP_OUTPUT_CHARS = 20_000;

export function spawnService(name: string, args: string[], options: SpawnOptions): Service {
  const child = spawn(process.execPath, args, { env: options.env, cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const collect = (stream: NodeJS.WritableStream) => (data: Buffer) => {
    output = (output + data.toString()).slice(-KEEP_OUTPUT_CHARS);
    if (options.echo) {
      for (const line of data.toString().split(/\r?\n/)) if (line.trim() !== "") stream.write(`[${name}] ${line}\n`);
    }
  };
  child.stdout?.on("data", collect(process.stdout));
  child.stderr?.on("data", collect(process.stderr));
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  return {
    name,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * A TCP port nothing listens on right now, for a service started next. Taken at random from below the
 * ephemeral range (Linux hands out 32768-60999 to outgoing connections, Windows and macOS 49152 and up):
 * a port the system chose for us would be free to give to the next outgoing connection in the moment
 * before the service binds it, and a busy test run makes thousands of those (EADDRINUSE, seen in CI).
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = FREE_PORT_LOW + Math.floor(Math.random() * (FREE_PORT_HIGH - FREE_PORT_LOW));
    if (await portIsFree(port)) return port;
  }
  throw new Error(`No free port found between ${FREE_PORT_LOW} and ${FREE_PORT_HIGH} after 50 tries.`);
}

const FREE_PORT_LOW = 20_000;
const FREE_PORT_HIGH = 32_000;

/** Polls `check` until it returns true; fails with the service's output if it exits or time runs out. */
export async function waitUntilReady(service: Service, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (service.child.exitCode !== null) {
      throw new Error(`${service.name} exited with code ${service.child.exitCode}:\n${service.output()}`);
    }
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${service.name} was not ready after ${timeoutMs / 1000} s:\n${service.output()}`);
}

export async function answers(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  await response.body?.cancel();
  return response.status < 500;
}

/** Whether nothing listens on `port` yet, so a service started there is the one that answers. */
export async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}
