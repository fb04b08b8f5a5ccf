import { WebSocket } from "undici";

/** What the inspector says of a process's memory, after a full garbage collection. */
export interface LiveMemory {
  /** Live JS objects. */
  heapUsedMiB: number;
  /** Memory outside the JS heap that JS objects hold (Buffers, ArrayBuffers). */
  externalMiB: number;
}

/** The inspector's WebSocket URL, from the "Debugger listening on ws://..." line a process prints. */
export function inspectorUrl(output: string): string | undefined {
  return /Debugger listening on (ws:\/\/\S+)/.exec(output)?.[1];
}

/**
 * Collects garbage in the process behind `url` (started with --inspect) and reads its memory: the
 * live heap says whether anything is kept, which resident memory cannot (V8 and the allocator keep
 * pages they no longer need, and give them back when they choose).
 */
export async function liveMemoryAfterGc(url: string): Promise<LiveMemory> {
  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener("open", () => resolve(), { once: true });
    socket.addEventListener("error", () => reject(new Error("inspector connection failed")), { once: true });
  });
  let id = 0;
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<any>((resolve, reject) => {
      const mine = ++id;
      const onMessage = (event: { data: unknown }) => {
        const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: { message: string } };
        if (message.id !== mine) return;
        socket.removeEventListener("message", onMessage);
        if (message.error) reject(new Error(message.error.message));
        else resolve(message.result);
      };
      socket.addEventListener("message", onMessage);
      socket.send(JSON.stringify({ id: mine, method, params }));
    });
  try {
    await call("HeapProfiler.collectGarbage");
    await call("HeapProfiler.collectGarbage");
    const result = await call("Runtime.evaluate", { expression: "JSON.stringify(process.memoryUsage())", returnByValue: true });
    const usage = JSON.parse(result.result.value as string) as { heapUsed: number; external: number };
    return { heapUsedMiB: usage.heapUsed / 1048576, externalMiB: usage.external / 1048576 };
  } finally {
    socket.close();
  }
}
