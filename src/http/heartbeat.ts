export const PING = Symbol("ping");

/**
 * The items of `source`, with PING whenever it stays silent for `intervalMs`, so a stream can send
 * keep-alive comments while the model thinks. Stopping early returns the source.
 */
export async function* withHeartbeat<T>(source: AsyncIterable<T>, intervalMs: number): AsyncGenerator<T | typeof PING> {
  const iterator = source[Symbol.asyncIterator]();
  let pending = iterator.next();
  let finished = false;
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const tick = new Promise<typeof PING>((resolve) => {
        timer = setTimeout(() => resolve(PING), intervalMs);
      });
      const result = await Promise.race([pending, tick]).finally(() => clearTimeout(timer));
      if (result === PING) {
        yield PING;
        continue;
      }
      if (result.done) {
        finished = true;
        return;
      }
      yield result.value;
      pending = iterator.next();
    }
  } finally {
    if (!finished) {
      // The read still outstanding may fail once the source is closed; nobody is waiting for it.
      pending.catch(() => undefined);
      // Not awaited: a source that is an async generator finishes its current read before it can
      // return, and the consumer that left must not wait for that.
      iterator.return?.()?.catch(() => undefined);
    }
  }
}
