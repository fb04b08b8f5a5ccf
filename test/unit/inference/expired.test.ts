import { describe, expect, it } from "vitest";
import { expiredCall } from "../../../src/inference/expired.js";
import type { ModelMeter, ModelPort } from "../../../src/inference/index.js";
import { ModelPipeline } from "../../../src/inference/model-pipeline.js";

describe("expiredCall", () => {
  it("is a timeout once the request's deadline passed or the caller's deadline fired, aborted when the caller left", () => {
    expect(expiredCall({ deadlineAt: 1_000 }, 999)).toBeUndefined();
    expect(expiredCall({ deadlineAt: 1_000 }, 1_000)).toMatchObject({ kind: "timeout", status: 504, code: "upstream_timeout", blame: "caller" });
    expect(expiredCall({ signal: AbortSignal.abort(new DOMException("late", "TimeoutError")) })).toMatchObject({ status: 504, blame: "caller" });
    expect(expiredCall({ signal: AbortSignal.abort() })).toMatchObject({ kind: "aborted", status: 499 });
    expect(expiredCall({})).toBeUndefined();
  });
});

describe("ModelPipeline: time and quota", () => {
  const inner = { alias: "m", complete: async () => ({ choices: [] }) } as unknown as ModelPort;
  const pipeline = () =>
    new ModelPipeline(inner, { maxRetries: 0, baseDelayMs: 1, budgetMs: 60_000, breaker: { failures: 5, windowMs: 1_000, coolDownMs: 1_000 } });

  it("starts no call, and asks no quota, after the request's deadline", async () => {
    let admissions = 0;
    const meter: ModelMeter = {
      admit: async () => {
        admissions++;
        return { settle: () => undefined };
      },
    };
    await expect(pipeline().complete({ messages: [] }, { meter, deadlineAt: Date.now() - 1 })).rejects.toMatchObject({ code: "upstream_timeout" });
    expect(admissions).toBe(0);
  });

  it("turns the quota store's abort at the caller's deadline into a 504, not a raw error", async () => {
    const deadline = new AbortController();
    const meter: ModelMeter = {
      admit: async () => {
        deadline.abort(new DOMException("late", "TimeoutError"));
        throw new DOMException("The operation was aborted due to timeout", "TimeoutError");
      },
    };
    await expect(pipeline().complete({ messages: [] }, { meter, signal: deadline.signal })).rejects.toMatchObject({ status: 504, code: "upstream_timeout" });
  });
});
