import { describe, expect, it } from "vitest";
import type { ModelPort } from "../../../src/inference/index.js";
import { ModelInfoCache } from "../../../src/inference/model-info-cache.js";

function fakePort(answers: Array<() => Promise<unknown>>) {
  let calls = 0;
  const port = {
    alias: "m",
    info: (options?: { signal?: AbortSignal }) => {
      expect(options?.signal).toBeInstanceOf(AbortSignal);
      return (answers[calls++] ?? answers.at(-1)!)();
    },
  } as unknown as ModelPort;
  return { port, calls: () => calls };
}

const info = { model_name: "M", model_type: "chat-completions", model_provider_name: "P" };

describe("ModelInfoCache", () => {
  it("asks once per TTL, sharing one call among concurrent callers", async () => {
    let now = 0;
    const cache = new ModelInfoCache(1_000, 5_000, () => now);
    const { port, calls } = fakePort([async () => info]);
    expect(await Promise.all([cache.get(port), cache.get(port)])).toEqual([info, info]);
    expect(calls()).toBe(1);
    now = 999;
    await cache.get(port);
    expect(calls()).toBe(1);
    now = 1_000;
    await cache.get(port);
    expect(calls()).toBe(2);
  });

  it("does not keep a failure", async () => {
    const cache = new ModelInfoCache(60_000, 5_000, () => 0);
    const { port, calls } = fakePort([async () => Promise.reject(new Error("down")), async () => info]);
    await expect(cache.get(port)).rejects.toThrow("down");
    expect(await cache.get(port)).toEqual(info);
    expect(calls()).toBe(2);
  });

  it("lets one caller give up without failing the shared call", async () => {
    const cache = new ModelInfoCache(60_000, 5_000, () => 0);
    let resolve!: (v: unknown) => void;
    const { port } = fakePort([() => new Promise((r) => (resolve = r))]);
    const controller = new AbortController();
    const leaving = cache.get(port, controller.signal);
    const staying = cache.get(port);
    controller.abort(new Error("left"));
    await expect(leaving).rejects.toThrow("left");
    resolve(info);
    expect(await staying).toEqual(info);
  });
});
