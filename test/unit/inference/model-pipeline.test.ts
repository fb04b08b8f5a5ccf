import { describe, expect, it } from "vitest";
import {
  type ChatCompletion,
  type ChatCompletionChunk,
  type MeterTicket,
  ModelError,
  type ModelMeter,
  type ModelPort,
  type WireUsage,
} from "../../../src/inference/index.js";
import { ModelPipeline } from "../../../src/inference/model-pipeline.js";

const usage: WireUsage = { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 };
const answer: ChatCompletion = {
  id: "a",
  created: 1,
  model: "m",
  choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }],
  usage,
};
const chunk = (content: string, last = false): ChatCompletionChunk => ({
  id: "a",
  created: 1,
  model: "m",
  choices: [{ index: 0, delta: { content }, finish_reason: last ? "stop" : null }],
  ...(last ? { usage } : {}),
});
const busy = (retryAfterMs?: number) => new ModelError({ kind: "upstream", status: 503, code: "service_unavailable", message: "busy", retryAfterMs });

/** An adapter that fails with `failures` in turn, then answers; it records every attempt. */
function adapter(...failures: ModelError[]) {
  const attempts: Array<{ deadlineAt?: number }> = [];
  const next = () => {
    const failure = failures[attempts.length - 1];
    if (failure) throw failure;
  };
  const port: ModelPort = {
    alias: "m",
    api: "model-inference",
    async complete(_body, options) {
      attempts.push({ deadlineAt: options?.deadlineAt });
      next();
      return answer;
    },
    async stream(_body, options) {
      attempts.push({ deadlineAt: options?.deadlineAt });
      next();
      return (async function* () {
        yield chunk("h");
        yield chunk("i", true);
      })();
    },
    info: async () => ({ model_name: "m", model_type: "chat-completion", model_provider_name: "Mistral" }),
  };
  return { port, attempts };
}

/** A meter that records admissions and what each was settled with. */
function meter() {
  const admissions: string[] = [];
  const settled: Array<{ usage: WireUsage | undefined; chunks: number }> = [];
  const value: ModelMeter = {
    async admit(alias): Promise<MeterTicket> {
      admissions.push(alias);
      return { settle: (used, chunks) => settled.push({ usage: used, chunks }) };
    },
  };
  return { value, admissions, settled };
}

const policy = { maxRetries: 2, baseDelayMs: 1, budgetMs: 10_000, breaker: { failures: 100, windowMs: 1_000, coolDownMs: 1_000 } };

describe("ModelPipeline", () => {
  it("admits once, retries what is worth repeating within one deadline, and charges what the model reported", async () => {
    const inner = adapter(busy(5), busy());
    const quota = meter();
    const deadlineAt = Date.now() + 5_000;
    const completion = await new ModelPipeline(inner.port, policy).complete({ messages: [] }, { meter: quota.value, deadlineAt });
    expect(completion).toBe(answer);
    expect(inner.attempts).toHaveLength(3);
    // Every attempt works to the request's one deadline (the budget is longer).
    expect(inner.attempts.every((attempt) => attempt.deadlineAt === deadlineAt)).toBe(true);
    expect(quota.admissions).toEqual(["m"]);
    expect(quota.settled).toEqual([{ usage, chunks: 0 }]);
  });

  it("after the last retry the caller hears unavailable, and the failed call is settled with nothing used", async () => {
    const inner = adapter(busy(), busy(), busy());
    const quota = meter();
    await expect(new ModelPipeline(inner.port, policy).complete({ messages: [] }, { meter: quota.value })).rejects.toMatchObject({
      status: 503,
      code: "upstream_unavailable",
      message: "The model is unavailable (3 attempts).",
    });
    expect(quota.settled).toEqual([{ usage: undefined, chunks: 0 }]);
  });

  it("reports each failed attempt with the deployment, attempt, status and code, and nothing of the endpoint", async () => {
    const warnings: string[] = [];
    const inner = adapter(busy(), busy());
    await new ModelPipeline(inner.port, policy).complete({ messages: [] }, { warn: (message) => warnings.push(message) });
    expect(warnings).toEqual([
      "Model call failed: deployment m, attempt 1, status 503, code service_unavailable.",
      "Model call failed: deployment m, attempt 2, status 503, code service_unavailable.",
    ]);
  });

  it("answers a Retry-After longer than the time left at once, with the model's own 429", async () => {
    const throttled = new ModelError({ kind: "upstream", status: 429, code: "rate_limited", message: "slow down", retryAfterMs: 60_000 });
    const inner = adapter(throttled);
    await expect(new ModelPipeline(inner.port, policy).complete({ messages: [] }, { deadlineAt: Date.now() + 2_000 })).rejects.toBe(throttled);
    expect(inner.attempts).toHaveLength(1);
  });

  it("never repeats a caller's mistake, a content filter or an error of this app", async () => {
    for (const error of [
      new ModelError({ kind: "upstream", status: 400, code: "content_filter", message: "m" }),
      new ModelError({ kind: "upstream", status: 422, code: "invalid", message: "m" }),
      new ModelError({ kind: "internal", status: 500, code: "internal_error", message: "m" }),
    ]) {
      const inner = adapter(error);
      await expect(new ModelPipeline(inner.port, policy).complete({ messages: [] })).rejects.toBe(error);
      expect(inner.attempts).toHaveLength(1);
    }
  });

  it("retries a stream until the model accepts it, and charges it when it ends with the usage of its last chunk", async () => {
    const inner = adapter(busy());
    const quota = meter();
    const chunks = await new ModelPipeline(inner.port, policy).stream({ messages: [] }, { meter: quota.value });
    expect(inner.attempts).toHaveLength(2);
    expect(quota.settled).toEqual([]);
    const texts: string[] = [];
    for await (const c of chunks) texts.push(String(c.choices[0]?.delta.content));
    expect(texts).toEqual(["h", "i"]);
    expect(quota.settled).toEqual([{ usage, chunks: 2 }]);
  });

  it("charges a stream left after its first chunk for the chunks sent", async () => {
    const quota = meter();
    const chunks = await new ModelPipeline(adapter().port, policy).stream({ messages: [] }, { meter: quota.value });
    for await (const _ of chunks) break;
    expect(quota.settled).toEqual([{ usage: undefined, chunks: 1 }]);
  });

  it("a metered stream left unread releases the model's stream under it, not only its quota", async () => {
    let released = false;
    const inner: ModelPort = {
      ...adapter().port,
      async stream() {
        return {
          [Symbol.asyncIterator]() {
            return {
              next: async () => ({ done: false as const, value: chunk("x") }),
              return: async () => {
                released = true;
                return { done: true as const, value: undefined };
              },
            };
          },
        };
      },
    };
    const quota = meter();
    const chunks = await new ModelPipeline(inner, policy).stream({ messages: [] }, { meter: quota.value });
    await chunks[Symbol.asyncIterator]().return?.();
    expect(quota.settled).toEqual([{ usage: undefined, chunks: 0 }]);
    expect(released).toBe(true);
  });
});
