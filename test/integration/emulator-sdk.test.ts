import { AzureKeyCredential } from "@azure/core-auth";
import { createSseStream } from "@azure/core-sse";
import ModelClient, { isUnexpected } from "@azure-rest/ai-inference";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EMULATOR_KEY, seed, startEmulator } from "../support/emulator.js";

/**
 * The official @azure-rest/ai-inference client, pointed straight at the emulator, running the seed's
 * JavaScript examples: if the emulator drifts from the real wire protocol, the SDK notices.
 */
let emulator: Awaited<ReturnType<typeof startEmulator>>;
let client: ReturnType<typeof ModelClient>;

beforeAll(async () => {
  emulator = await startEmulator();
  client = ModelClient(`${emulator.url}/mistral-large`, new AzureKeyCredential(EMULATOR_KEY), {
    allowInsecureConnection: true,
    retryOptions: { maxRetries: 0 },
  });
});
afterAll(() => emulator.close());

const messages = [
  { role: "system", content: "You are a helpful assistant" },
  { role: "user", content: "How many languages are in the world?" },
];

describe("@azure-rest/ai-inference against the emulator", () => {
  it("gets the model's info", async () => {
    const response = await client.path("/info").get();
    expect(isUnexpected(response)).toBe(false);
    expect(response.body).toEqual(seed("info.response"));
  });

  it("completes a chat, with model and usage", async () => {
    const response = await client.path("/chat/completions").post({ body: { messages } });
    if (isUnexpected(response)) throw response.body.error;
    expect(response.body.choices[0]?.message.content).toBe(seed("chat.response").choices[0].message.content);
    expect(response.body.model).toBe("Mistral-Large");
    expect(response.body.usage.total_tokens).toBe(response.body.usage.prompt_tokens + response.body.usage.completion_tokens);
  });

  it("streams with createSseStream until [DONE]", async () => {
    const response = await client
      .path("/chat/completions")
      .post({ body: { messages, stream: true } })
      .asNodeStream();
    expect(response.status).toBe("200");
    const stream = response.body;
    if (!stream) throw new Error("The response stream is undefined");
    let content = "";
    let sawDone = false;
    let usage: unknown;
    for await (const event of createSseStream(stream)) {
      if (event.data === "[DONE]") {
        sawDone = true;
        break;
      }
      const chunk = JSON.parse(event.data);
      for (const choice of chunk.choices) content += choice.delta?.content ?? "";
      usage ??= chunk.usage;
    }
    expect(sawDone).toBe(true);
    expect(content).toBe(seed("chat.response").choices[0].message.content);
    expect(usage).toMatchObject({ prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number) });
  });

  it("runs the seed's tool flow: tool_calls, the tool's answer appended, then the final answer", async () => {
    const toolRequest = seed("tools.request");
    const history: any[] = [...toolRequest.messages];
    const first = await client.path("/chat/completions").post({ body: { messages: history, tools: toolRequest.tools, tool_choice: "auto" } });
    if (isUnexpected(first)) throw first.body.error;
    const choice = first.body.choices[0];
    expect(choice?.finish_reason).toBe("tool_calls");
    const toolCalls = choice?.message.tool_calls ?? [];
    expect(toolCalls).toHaveLength(1);
    history.push(choice?.message);
    for (const call of toolCalls) {
      const args = JSON.parse(call.function.arguments);
      expect(args).toEqual({ origin_city: "Miami", destination_city: "Seattle" });
      const info = `There are no flights available from ${args.origin_city} to ${args.destination_city}. You should take a train, specially if it helps to reduce CO2 emissions.`;
      history.push({ role: "tool", tool_call_id: call.id, content: JSON.stringify({ info }) });
    }
    const second = await client.path("/chat/completions").post({ body: { messages: history, tools: toolRequest.tools } });
    if (isUnexpected(second)) throw second.body.error;
    expect(second.body.choices[0]?.finish_reason).toBe("stop");
    expect(second.body.choices[0]?.message.content).toContain("no flights available from Miami to Seattle");
  });

  it("passes extra parameters with the extra-parameters header", async () => {
    const response = await client.path("/chat/completions").post({
      headers: { "extra-parameters": "pass-through" },
      body: { messages, logprobs: true } as never,
    });
    if (isUnexpected(response)) throw response.body.error;
    expect((response.body.choices[0] as unknown as { logprobs: { content: unknown[] } }).logprobs.content.length).toBeGreaterThan(0);
  });

  it("surfaces the content filter as an unexpected 400 with code content_filter", async () => {
    const response = await client.path("/chat/completions").post({ body: seed("content-filter.request") as never });
    expect(isUnexpected(response)).toBe(true);
    expect(response.status).toBe("400");
    expect((response.body as { error: { code: string; message: string } }).error).toMatchObject(seed("content-filter.response").error);
  });

  it("sends the key both as api-key and as a bearer token", async () => {
    emulator.emulator.log.clear();
    await client.path("/info").get();
    const [entry] = emulator.emulator.log.entries();
    expect(entry?.headers["api-key"]).toBe("[redacted]");
    expect(entry?.headers.authorization).toBe("[redacted]");
    expect(entry?.query["api-version"]).toBe("2024-05-01-preview");
  });
});
