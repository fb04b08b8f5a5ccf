/**
 * An async iterable over `source` that runs `cleanup` exactly once: when the source ends or fails,
 * or when the consumer stops, even before its first read (an async generator's own `finally` only
 * runs once iteration has started). `seen`, when given, is shown each item as it passes: cheaper per
 * item than a generator of one's own in between, which a stream pays for on every chunk.
 */
export function managedStream<T>(source: AsyncIterator<T>, cleanup: () => void, seen?: (item: T) => void): AsyncIterableIterator<T> {
  let cleaned = false;
  const clean = () => {
    if (!cleaned) {
      cleaned = true;
      cleanup();
    }
  };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      try {
        const result = await source.next();
        if (result.done) clean();
        else seen?.(result.value);
        return result;
      } catch (error) {
        clean();
        throw error;
      }
    },
    async return(value?: unknown) {
      clean();
      await source.return?.(value as T);
      return { done: true, value: value as T };
    },
  };
}
