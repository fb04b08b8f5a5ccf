import { describe, expect, it } from "vitest";
import { Slots } from "../../../src/tools/slots.js";

describe("Slots", () => {
  it("lets `size` holders in, queues the rest in order, and passes each freed slot on", async () => {
    const slots = new Slots(2);
    const never = new AbortController().signal;
    const first = await slots.take(never);
    const second = await slots.take(never);
    const order: number[] = [];
    const third = slots.take(never).then((release) => {
      order.push(3);
      return release;
    });
    const fourth = slots.take(never).then((release) => {
      order.push(4);
      return release;
    });
    await Promise.resolve();
    expect(order).toEqual([]);
    first();
    first(); // a second release of the same slot changes nothing
    const releaseThird = await third;
    expect(order).toEqual([3]);
    second();
    (await fourth)();
    releaseThird();
    expect(order).toEqual([3, 4]);
    // Every slot is free again: two can be taken at once.
    await slots.take(never);
    await slots.take(never);
  });

  it("gives up waiting when the signal aborts, and the slot goes to the next in line", async () => {
    const slots = new Slots(1);
    const release = await slots.take(new AbortController().signal);
    const leaving = new AbortController();
    const waiting = slots.take(leaving.signal);
    const next = slots.take(new AbortController().signal);
    leaving.abort(new Error("gone"));
    await expect(waiting).rejects.toThrow("gone");
    release();
    await expect(next).resolves.toBeTypeOf("function");
    await expect(slots.take(AbortSignal.abort())).rejects.toBeDefined();
  });
});
