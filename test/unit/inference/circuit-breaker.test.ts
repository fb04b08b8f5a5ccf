import { describe, expect, it } from "vitest";
import { CircuitBreaker } from "../../../src/inference/circuit-breaker.js";
import { ModelError, type ModelPort } from "../../../src/inference/index.js";
import { ModelPipeline } from "../../../src/inference/model-pipeline.js";

const options = { failures: 3, windowMs: 1_000, coolDownMs: 500 };

describe("CircuitBreaker", () => {
  it("opens after enough failures within the window, and only then", () => {
    let now = 0;
    const breaker = new CircuitBreaker(options, () => now);
    breaker.failure();
    now = 1_100; // the first failure has left the window
    breaker.failure();
    breaker.failure();
    expect(breaker.state).toBe("closed");
    breaker.failure();
    expect(breaker.state).toBe("open");
    expect(breaker.allow()).toBe(false);
    expect(breaker.retryAfterMs()).toBe(500);
  });

  it("lets exactly one probe through after the cool-down; its outcome closes or reopens", () => {
    let now = 0;
    const breaker = new CircuitBreaker({ ...options, failures: 1 }, () => now);
    breaker.failure();
    now = 500;
    expect(breaker.allow()).toBe(true);
    expect(breaker.state).toBe("half-open");
    expect(breaker.allow()).toBe(false);
    breaker.failure();
    expect(breaker.state).toBe("open");
    now = 1_000;
    expect(breaker.allow()).toBe(true);
    breaker.success();
    expect(breaker.state).toBe("closed");
    expect(breaker.allow()).toBe(true);
  });

  it("forgets failures after a success", () => {
    const breaker = new CircuitBreaker(options, () => 0);
    breaker.failure();
    breaker.failure();
    breaker.success();
    breaker.failure();
    breaker.failure();
    expect(breaker.state).toBe("closed");
  });
});

describe("ModelPipeline: the circuit", () => {
  /** The pipeline with retries off, so each call is one attempt and the circuit sees it. */
  const guarded = (inner: ModelPort, breaker: typeof options & { minCallers?: number }, now: () => number) =>
    new ModelPipeline(inner, { maxRetries: 0, baseDelayMs: 1, budgetMs: 60_000, breaker, now });

  const failing = (error: ModelError) => {
    let calls = 0;
    const port = {
      alias: "m",
      complete: async () => {
        calls++;
        throw error;
      },
    } as unknown as ModelPort;
    return { port, calls: () => calls };
  };

  it("refuses at once with a 503 and Retry-After while open, without calling the model", async () => {
    const inner = failing(new ModelError({ kind: "upstream", status: 500, code: "x", message: "m" }));
    const port = guarded(inner.port, { ...options, failures: 2 }, () => 0);
    for (let i = 0; i < 2; i++) await expect(port.complete({ messages: [] })).rejects.toMatchObject({ status: 500 });
    await expect(port.complete({ messages: [] })).rejects.toMatchObject({ status: 503, code: "upstream_unavailable", retryAfterMs: 500 });
    expect(inner.calls()).toBe(2);
  });

  it("does not count caller mistakes, throttling or cancellations as an outage", async () => {
    for (const error of [
      new ModelError({ kind: "upstream", status: 400, code: "content_filter", message: "m" }),
      new ModelError({ kind: "upstream", status: 429, code: "429", message: "m" }),
      new ModelError({ kind: "aborted", status: 499, code: "aborted", message: "m" }),
    ]) {
      const port = guarded(failing(error).port, { ...options, failures: 1 }, () => 0);
      await expect(port.complete({ messages: [] })).rejects.toBe(error);
      expect(port.breaker.state).toBe("closed");
    }
  });

  it("never counts what the deployment did not cause: a caller's deadline or leaving, or an error in this app", async () => {
    for (const error of [
      new ModelError({ kind: "timeout", status: 504, code: "upstream_timeout", message: "m", blame: "caller" }),
      new ModelError({ kind: "aborted", status: 499, code: "aborted", message: "m" }),
      new ModelError({ kind: "internal", status: 500, code: "internal_error", message: "m" }),
      new ModelError({ kind: "credential", status: 503, code: "model_credential_unavailable", message: "m" }),
    ]) {
      const port = guarded(failing(error).port, { ...options, failures: 1 }, () => 0);
      await expect(port.complete({ messages: [] })).rejects.toBe(error);
      expect(port.breaker.state, error.code).toBe("closed");
    }
    // The deployment's own timeout does count.
    const slow = new ModelError({ kind: "timeout", status: 504, code: "upstream_timeout", message: "m" });
    const port = guarded(failing(slow).port, { ...options, failures: 1 }, () => 0);
    await expect(port.complete({ messages: [] })).rejects.toBe(slow);
    expect(port.breaker.state).toBe("open");
  });

  it("opens only when the failures came from enough different callers", async () => {
    const inner = failing(new ModelError({ kind: "upstream", status: 500, code: "x", message: "m" }));
    const port = guarded(inner.port, { ...options, failures: 2, minCallers: 2 }, () => 0);
    for (let i = 0; i < 5; i++) await expect(port.complete({ messages: [] }, { callerId: "key:mallory" })).rejects.toMatchObject({ status: 500 });
    expect(port.breaker.state).toBe("closed");
    await expect(port.complete({ messages: [] }, { callerId: "key:alice" })).rejects.toMatchObject({ status: 500 });
    expect(port.breaker.state).toBe("open");
  });

  it("lets the next probe through when the probe's caller left", () => {
    let now = 0;
    const breaker = new CircuitBreaker({ ...options, failures: 1 }, () => now);
    breaker.failure();
    now = 500;
    expect(breaker.allow()).toBe(true);
    expect(breaker.allow()).toBe(false);
    breaker.neutral();
    expect(breaker.state).toBe("half-open");
    expect(breaker.allow()).toBe(true);
  });
});
