import { afterEach, describe, expect, it, vi } from "vitest";
import { PING, withHeartbeat } from "../../../src/http/heartbeat.js";

afterEach(() => vi.useRealTimers());

/** A source whose items the test releases one at a time. */
function manualSource<T>() {
  const waiting: Array<(value: IteratorResult<T>) => void> = [];
  let returned = false;
  const iterable: AsyncIterable<T> = {
    [Symbol.asyncIterator]: () => ({
      next: () => new Promise<IteratorResult<T>>((resolve) => waiting.push(resolve)),
      return: async () => {
        returned = true;
        return { done: true, value: undefined };
      },
    }),
  };
  return {
    iterable,
    push: (value: T) => waiting.shift()?.({ done: false, value }),
    end: () => waiting.shift()?.({ done: true, value: undefined }),
    returned: () => returned,
  };
}

describe("withHeartbeat", () => {
  it("yields PING for each silent interval and the items as they come", async () => {
    vi.useFakeTimers();
    const source = manualSource<string>();
    const out = withHeartbeat(source.iterable, 1_000);
    const first = out.next();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await first).toEqual({ done: false, value: PING });
    const second = out.next();
    source.push("a");
    expect(await second).toEqual({ done: false, value: "a" });
    const third = out.next();
    source.end();
    expect(await third).toEqual({ done: true, value: undefined });
    expect(source.returned()).toBe(false);
  });

  it("returns the source when the consumer stops early", async () => {
    vi.useFakeTimers();
    const source = manualSource<string>();
    const out = withHeartbeat(source.iterable, 1_000);
    const first = out.next();
    await vi.advanceTimersByTimeAsync(1_000);
    await first;
    await out.return(undefined);
    expect(source.returned()).toBe(true);
  });
});
