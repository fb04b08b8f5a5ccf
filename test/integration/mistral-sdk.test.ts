import { Mistral } from "@mistralai/mistralai";
import { beforeAll, describe, expect, it } from "vitest";
import { seed } from "../support/emulator.js";
import { useOwnApp } from "../support/host.js";
import { upstreamDeployment } from "../support/model-api.js";

/**
 * Mistral's own SDK pointed at the app (`serverURL` .../api: it posts to .../api/v1/chat/completions), with
 * a caller key as its API key. Its own fields arrive as Mistral spells them (`safe_prompt`, `random_seed`) and
 * reach the model without the caller sending `extra-parameters`; the emulator's log shows what reached it.
 */
const app = useOwnApp();
let mistral: Mistral;
beforeAll(() => {
  mistral = new Mistral({ serverURL: `${app.host.url}/api`, apiKey: "dev-key", retryConfig: { strategy: "none" } });
});

const messages = seed("chat.request").messages;
const expectedAnswer = seed("chat.response").choices[0].message.content;
const chatRequests = () => app.emulator.emulator.log.entries().filter((e) => e.path.endsWith("/chat/completions"));

describe("@mistralai/mistralai against the app", () => {
  it("completes with safePrompt and randomSeed, which reach the model as safe_prompt (pass-through) and seed", async () => {
    const plain = await mistral.chat.complete({ model: "mistral-large", messages });
    const safe = await mistral.chat.complete({ model: "mistral-large", messages, safePrompt: true, randomSeed: 42 });
    expect(safe.choices[0]?.message?.content).toBe(expectedAnswer);
    // Safe mode prepends Mistral's guardrail prompt, which the model counts.
    expect(safe.usage?.promptTokens).toBeGreaterThan(plain.usage?.promptTokens ?? Number.POSITIVE_INFINITY);
    const [, sent] = chatRequests();
    expect(upstreamDeployment(sent as { path: string; body?: unknown })).toBe("mistral-large");
    expect(sent?.body).toMatchObject({ safe_prompt: true, seed: 42 });
    expect(sent?.body).not.toHaveProperty("random_seed");
    expect(sent?.headers["extra-parameters"]).toBe("pass-through");
  });

  it("streams", async () => {
    const stream = await mistral.chat.stream({ model: "mistral-small", messages, safePrompt: false });
    let content = "";
    for await (const event of stream) content += String(event.data.choices[0]?.delta.content ?? "");
    expect(content).toBe(expectedAnswer);
    expect(upstreamDeployment(chatRequests().at(-1) as { path: string; body?: unknown })).toBe("mistral-small");
  });

  it("runs the seed's tool flow in two calls", async () => {
    const { tools, messages: start } = seed("tools.request");
    const first = await mistral.chat.complete({ model: "mistral-large", messages: start, tools, toolChoice: "auto" });
    expect(first.choices[0]?.finishReason).toBe("tool_calls");
    const message = first.choices[0]?.message;
    const history: any[] = [...start, { role: "assistant", content: message?.content ?? "", toolCalls: message?.toolCalls }];
    for (const call of message?.toolCalls ?? []) {
      const { origin_city, destination_city } = JSON.parse(String(call.function.arguments));
      history.push({
        role: "tool",
        toolCallId: call.id,
        name: call.function.name,
        content: JSON.stringify({ info: `There are no flights available from ${origin_city} to ${destination_city}.` }),
      });
    }
    const second = await mistral.chat.complete({ model: "mistral-large", messages: history, tools });
    expect(second.choices[0]?.message?.content).toBe("There are no flights available from Miami to Seattle.");
  });

  it("gets the app's errors in the shape it parses: an unknown model, and a field neither API knows", async () => {
    await expect(mistral.chat.complete({ model: "mistral-huge", messages })).rejects.toMatchObject({ statusCode: 400 });
    const refused = await fetch(`${app.host.url}/api/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer dev-key" },
      body: JSON.stringify({ messages, safe_prompt: true, guardrails: [] }),
    });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as any).error).toMatchObject({ code: "extra_parameters_not_allowed", param: "guardrails" });
    // Nothing reached the model for either.
    expect(chatRequests().filter((e) => (e.body as { guardrails?: unknown })?.guardrails !== undefined)).toEqual([]);
  });
});
