import { describe, expect, it } from "vitest";
import type { ChatPart } from "../../../src/chat/chat-parts.js";
import { collectChat, openChat } from "../../../src/chat/engine.js";
import { type ChatRuntime, prepareChat } from "../../../src/chat/prepare.js";
import type { QuotaConfig } from "../../../src/config/types.js";
import { type ChatCompletionsBody, ModelRegistry, type WireUsage } from "../../../src/inference/index.js";
import { ModelPipeline } from "../../../src/inference/model-pipeline.js";
import { HttpProblem } from "../../../src/lib/problem.js";
import { CallerMeter } from "../../../src/quotas/caller-meter.js";
import { type Admission, estimatePromptTokens, type QuotaCounter, type QuotaRemaining, type QuotaStore } from "../../../src/quotas/index.js";
import type { ServerTool } from "../../../src/tools/server-tool.js";
import { ToolRegistry } from "../../../src/tools/tool-registry.js";
import { seed } from "../../support/emulator.js";
import { CHAT_LIMITS, FakeModel, recordedUsage, type StreamName, TOOL_LIMITS, type Turn, upstreamFailure } from "../../support/fake-model.js";

const WINDOW = "202601010000";

/**
 * The QuotaStore contract in memory: all counters admit or none is written; a request and its
 * estimate are added on admission; `charge` corrects tokens, never below zero.
 */
class MemoryQuotaStore implements QuotaStore {
  readonly admits: Array<{ counters: readonly QuotaCounter[]; estimatedTokens: number }> = [];
  readonly charges: Array<{ keys: readonly string[]; window: string; delta: number }> = [];
  readonly #used = new Map<string, { requests: number; tokens: number }>();

  async admit(counters: readonly QuotaCounter[], estimatedTokens: number): Promise<Admission> {
    this.admits.push({ counters, estimatedTokens });
    const remaining: Record<string, QuotaRemaining> = {};
    for (const { key, limits } of counters) {
      const used = this.used(key);
      remaining[key] = { requests: Math.max(0, limits.requestsPerMinute - used.requests), tokens: Math.max(0, limits.tokensPerMinute - used.tokens) };
    }
    for (const { key, limits } of counters) {
      const used = this.used(key);
      const reason =
        estimatedTokens > limits.tokensPerMinute
          ? "too_large"
          : used.requests + 1 > limits.requestsPerMinute
            ? "requests"
            : used.tokens + estimatedTokens > limits.tokensPerMinute
              ? "tokens"
              : undefined;
      if (reason) return { admitted: false, window: WINDOW, retryAfterSeconds: 42, limiting: key, reason, remaining };
    }
    for (const { key } of counters) {
      const used = this.used(key);
      used.requests += 1;
      used.tokens += estimatedTokens;
      const before = remaining[key] as QuotaRemaining;
      remaining[key] = { requests: before.requests - 1, tokens: Math.max(0, before.tokens - estimatedTokens) };
    }
    return { admitted: true, window: WINDOW, remaining };
  }

  async charge(keys: readonly string[], window: string, tokensDelta: number): Promise<void> {
    this.charges.push({ keys, window, delta: tokensDelta });
    for (const key of keys) {
      const used = this.used(key);
      used.tokens = Math.max(0, used.tokens + tokensDelta);
    }
  }

  used(key: string): { requests: number; tokens: number } {
    let used = this.#used.get(key);
    if (!used) {
      used = { requests: 0, tokens: 0 };
      this.#used.set(key, used);
    }
    return used;
  }
}

const ANSWER_RESERVE = 500;
const limits = (requestsPerMinute: number, tokensPerMinute = 100_000) => ({ requestsPerMinute, tokensPerMinute });
const quotaConfig = (caller = limits(100), deployment = limits(1_000)): QuotaConfig => ({
  enabled: true,
  table: "quotas",
  caller,
  perKey: {},
  deployments: { "mistral-large": deployment },
  answerReserveTokens: ANSWER_RESERVE,
  leasePercent: 5,
});
const CALLER = "caller:key:test";
const DEPLOYMENT = "deployment:mistral-large";

const flightTool: ServerTool = {
  name: "get_flight_info",
  description: "The test's own flight lookup.",
  parameters: { type: "object", properties: { origin_city: { type: "string" }, destination_city: { type: "string" } } },
  execute: async () => ({ info: "Take the train." }),
};
const flightQuestion = seed("tools.request").messages as unknown[];
const toolLoop = { messages: flightQuestion, server_tools: ["get_flight_info"] };

/** A fake deployment behind the real model pipeline, with a meter over the in-memory store. */
function metered(turns: Turn[], options: { quotas?: QuotaConfig; maxRetries?: number } = {}) {
  const model = new FakeModel("mistral-large", turns);
  const pipeline = new ModelPipeline(model, {
    maxRetries: options.maxRetries ?? 0,
    baseDelayMs: 1,
    budgetMs: 10_000,
    breaker: { failures: 100, windowMs: 60_000, coolDownMs: 1_000 },
  });
  const store = new MemoryQuotaStore();
  const lost: string[] = [];
  const meter = new CallerMeter(store, options.quotas ?? quotaConfig(), { id: "key:test", keyName: "test" }, ANSWER_RESERVE, (line) => lost.push(line));
  const chat: ChatRuntime = {
    models: new ModelRegistry([pipeline]),
    tools: new ToolRegistry([flightTool]),
    config: {
      maxTokens: 4_096,
      tools: TOOL_LIMITS,
      chat: CHAT_LIMITS,
    },
  };
  const open = async (body: unknown, stream: boolean) =>
    openChat(await prepareChat(body, chat, { meter, callerId: "key:test" }), {
      models: chat.models,
      allowFallback: false,
      stream,
      deadlineAt: Date.now() + 10_000,
    });
  return { model, store, lost, open };
}

async function all(parts: AsyncIterable<ChatPart>): Promise<ChatPart[]> {
  const out: ChatPart[] = [];
  for await (const part of parts) out.push(part);
  return out;
}

/** What the meter reserves for a call: the prompt's estimate, and the answer reserve (no max_tokens was sent). */
const reserved = (body: ChatCompletionsBody) => estimatePromptTokens(body.messages, Array.isArray(body.tools) ? body.tools : undefined) + ANSWER_RESERVE;
const total = (...names: StreamName[]) => names.map(recordedUsage).reduce((sum, usage: WireUsage) => sum + usage.total_tokens, 0);

describe("the chat engine through ModelPipeline and CallerMeter", () => {
  for (const stream of [false, true]) {
    it(`${stream ? "stream" : "JSON"} shape: one admission per model call, and each call charged to the usage the model reported`, async () => {
      const answer = (name: StreamName): Turn => (stream ? { stream: name } : { completion: name });
      const { model, store, lost, open } = metered([answer("tool-call"), answer("after-tool")]);
      const parts = await all((await open(toolLoop, stream)).parts);
      expect(parts.at(-1)?.type).toBe("done");

      expect(model.calls).toHaveLength(2);
      expect(store.admits).toHaveLength(2);
      for (const [index, admit] of store.admits.entries()) {
        expect(admit.counters.map((c) => c.key)).toEqual([CALLER, DEPLOYMENT]);
        expect(admit.estimatedTokens).toBe(reserved(model.bodies[index] as ChatCompletionsBody));
      }
      // Each settlement corrects its own reservation to what the model reported.
      expect(store.charges).toEqual([
        { keys: [CALLER, DEPLOYMENT], window: WINDOW, delta: recordedUsage("tool-call").total_tokens - reserved(model.bodies[0] as ChatCompletionsBody) },
        { keys: [CALLER, DEPLOYMENT], window: WINDOW, delta: recordedUsage("after-tool").total_tokens - reserved(model.bodies[1] as ChatCompletionsBody) },
      ]);
      expect(store.used(CALLER)).toEqual({ requests: 2, tokens: total("tool-call", "after-tool") });
      expect(store.used(DEPLOYMENT)).toEqual({ requests: 2, tokens: total("tool-call", "after-tool") });
      expect(lost).toEqual([]);
    });
  }

  it("admits a call once however many attempts it takes", async () => {
    const { model, store, open } = metered([{ fail: upstreamFailure(503) }, { completion: "text" }], { maxRetries: 1 });
    await collectChat((await open({ messages: [{ role: "user", content: "Say hello." }] }, false)).parts);
    expect(model.calls).toHaveLength(2);
    expect(store.admits).toHaveLength(1);
    expect(store.used(CALLER)).toEqual({ requests: 1, tokens: total("text") });
  });

  it("a refusal before the first call: openChat rejects with a 429 problem and the model is not called", async () => {
    const { model, store, open } = metered([{ stream: "text" }], { quotas: quotaConfig(limits(0)) });
    const error = await open({ messages: [{ role: "user", content: "Say hello." }] }, true).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HttpProblem);
    expect(error).toMatchObject({ status: 429, code: "quota_exceeded", headers: { "retry-after": "42", "x-ratelimit-remaining-requests": "0" } });
    expect(model.calls).toHaveLength(0);
    expect(store.charges).toEqual([]);
  });

  it("the deployment's shared budget refuses as deployment_busy", async () => {
    const { model, open } = metered([{ stream: "text" }], { quotas: quotaConfig(limits(100), limits(0)) });
    await expect(open({ messages: [{ role: "user", content: "Say hello." }] }, true)).rejects.toMatchObject({ status: 429, code: "deployment_busy" });
    expect(model.calls).toHaveLength(0);
  });

  it("a refusal on the second turn ends the parts in one 429 error; the first call is still charged", async () => {
    const { model, store, open } = metered([{ stream: "tool-call" }, { stream: "after-tool" }], { quotas: quotaConfig(limits(1)) });
    const parts = await all((await open(toolLoop, true)).parts);
    expect(parts.map((p) => p.type)).toEqual(["start", "tool_call", "tool_result", "error"]);
    expect(parts.at(-1)).toMatchObject({ type: "error", problem: { status: 429, code: "quota_exceeded" } });
    expect(model.calls).toHaveLength(1);
    expect(store.admits).toHaveLength(2);
    expect(store.used(CALLER)).toEqual({ requests: 1, tokens: total("tool-call") });
  });
});
