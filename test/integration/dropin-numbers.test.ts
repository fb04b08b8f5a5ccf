import { describe, expect, it } from "vitest";
import { postJson, seed } from "../support/emulator.js";
import { useOwnApp } from "../support/host.js";

/**
 * The drop-in routes' numeric fields over real HTTP: a max_tokens that is a string, a fraction,
 * negative or over the ceiling is a 400 in the SDK error shape before any model call or quota
 * reservation, so it can neither make a 500 nor slip past the caller's token quota.
 */
const CEILING = 1_000;
const REQUESTS_PER_MINUTE = 1_000;
const TOKENS_PER_MINUTE = 2_500;
const settings = { MODEL_MAX_TOKENS: String(CEILING), CALLER_QUOTAS: `dev:${REQUESTS_PER_MINUTE}/${TOKENS_PER_MINUTE}`, MODEL_MAX_RETRIES: "0" };

type App = ReturnType<typeof useOwnApp>;
const chat = (app: App, body: unknown, path = "/chat/completions") => postJson(`${app.host.url}/api${path}`, body, { "api-key": "dev-key" });
const question = (extra: Record<string, unknown>) => ({ ...seed("chat.request"), ...extra });

/** A 400 in the SDK error shape naming `param`, with a short message that does not echo the value. */
function expectRefused(answer: Awaited<ReturnType<typeof postJson>>, param: string) {
  expect(answer.status).toBe(400);
  expect(Object.keys(answer.json)).toEqual(["error"]);
  expect(answer.json.error).toMatchObject({ code: "invalid_request", type: "invalid_request_error", param, message: expect.any(String) });
  expect(answer.json.error.message.length).toBeLessThan(200);
  expect(answer.json.error.message).not.toContain("100000");
}

/** Counts are per minute: start a burst early enough in the minute that it ends in the same one. */
async function awayFromMinuteEnd(): Promise<void> {
  const second = new Date().getUTCSeconds();
  if (second >= 50) await new Promise((resolve) => setTimeout(resolve, (61 - second) * 1000));
}

describe("numeric fields the model never sees", () => {
  const app = useOwnApp(settings);

  it.each([
    ["a string max_tokens", { max_tokens: "100000" }, "max_tokens"],
    ["a small string max_tokens", { max_tokens: "5" }, "max_tokens"],
    ["a fractional max_tokens", { max_tokens: 1.5 }, "max_tokens"],
    ["a hugely negative max_tokens", { max_tokens: -1e20 }, "max_tokens"],
    ["a max_tokens over the ceiling", { max_tokens: CEILING + 1 }, "max_tokens"],
    ["a max_completion_tokens over the ceiling", { max_completion_tokens: CEILING + 1 }, "max_completion_tokens"],
    ["a string max_completion_tokens", { max_completion_tokens: "100000" }, "max_completion_tokens"],
    ["differing max_tokens and max_completion_tokens", { max_tokens: 10, max_completion_tokens: 20 }, "max_completion_tokens"],
    ["a temperature out of range", { temperature: 2.5 }, "temperature"],
    ["a string top_p", { top_p: "0.5" }, "top_p"],
    ["a fractional seed", { seed: 1.5 }, "seed"],
    ["a message without a role", { messages: [{ content: "hi" }] }, "messages[0]"],
  ])("answers 400 for %s, and calls no model", async (_name, extra, param) => {
    expectRefused(await chat(app, question(extra)), param);
    expect(app.emulator.emulator.log.entries()).toHaveLength(0);
  });

  it("answers the same on /v1/chat/completions, streaming or not", async () => {
    expectRefused(await chat(app, question({ max_tokens: "100000" }), "/v1/chat/completions"), "max_tokens");
    expectRefused(await chat(app, question({ max_tokens: 1.5, stream: true }), "/v1/chat/completions"), "max_tokens");
    expect(app.emulator.emulator.log.entries()).toHaveLength(0);
  });

  it("sends the validated limit upstream, max_completion_tokens as max_tokens, and the ceiling for null", async () => {
    expect((await chat(app, question({ max_completion_tokens: 7 }))).status).toBe(200);
    expect((await chat(app, question({ max_tokens: null, temperature: null }))).status).toBe(200);
    const bodies = app.emulator.emulator.log.entries().map((entry) => entry.body as Record<string, unknown>);
    expect(bodies.map((body) => body.max_tokens)).toEqual([7, CEILING]);
    expect(bodies[0]).not.toHaveProperty("max_completion_tokens");
    expect(bodies[1]).not.toHaveProperty("temperature");
  });
});

describe("the caller's token quota", () => {
  // A host and counters of its own: nothing else has used this caller's minute.
  const app = useOwnApp(settings);

  it("refuses a burst of string max_tokens outright, reserving and spending nothing, and still bounds numeric ones", async () => {
    await awayFromMinuteEnd();
    const strings = await Promise.all(Array.from({ length: 12 }, () => chat(app, question({ max_tokens: "100000" }))));
    for (const answer of strings) expectRefused(answer, "max_tokens");
    expect(app.emulator.emulator.log.entries()).toHaveLength(0);

    // The first call the quota sees is this one: the twelve above were neither counted nor reserved.
    const first = await chat(app, question({ max_tokens: CEILING }));
    expect(first.status).toBe(200);
    expect(first.response.headers.get("x-ratelimit-remaining-requests")).toBe(String(REQUESTS_PER_MINUTE - 1));
    const remaining = Number(first.response.headers.get("x-ratelimit-remaining-tokens"));
    expect(remaining).toBeLessThanOrEqual(TOKENS_PER_MINUTE - CEILING);
    expect(remaining).toBeGreaterThan(TOKENS_PER_MINUTE - CEILING - 100);

    // Numeric limits are reserved in full: a burst of them runs into the quota instead of past it.
    const burst = await Promise.all(Array.from({ length: 12 }, (_, i) => chat(app, question({ max_tokens: CEILING, seed: i }))));
    const admitted = [first, ...burst.filter((a) => a.status === 200)];
    const refused = burst.filter((a) => a.status === 429);
    expect(admitted.length + refused.length).toBe(burst.length + 1);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]?.json).toMatchObject({ error: { code: "quota_exceeded" } });
    const used = admitted.reduce((sum, a) => sum + (a.json.usage.total_tokens as number), 0);
    expect(used).toBeLessThanOrEqual(TOKENS_PER_MINUTE);
    const received = app.emulator.emulator.log.entries();
    expect(received).toHaveLength(admitted.length);
    for (const entry of received) expect((entry.body as { max_tokens: unknown }).max_tokens).toBe(CEILING);
  });
});
