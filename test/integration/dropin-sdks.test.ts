import { AzureKeyCredential } from "@azure/core-auth";
import { createSseStream } from "@azure/core-sse";
import ModelClient, { isUnexpected } from "@azure-rest/ai-inference";
import OpenAI from "openai";
import { describe, expect, inject, it } from "vitest";
import { seed } from "../support/emulator.js";

/**
 * Real clients pointed at the function app instead of the model: the official
 * @azure-rest/ai-inference client at /api, and the openai SDK at /api/v1, with the app's caller key.
 */
const api = `${inject("hostUrl")}/api`;
const azure = ModelClient(api, new AzureKeyCredential("dev-key"), { allowInsecureConnection: true, retryOptions: { maxRetries: 0 } });
const openai = new OpenAI({ baseURL: `${api}/v1`, apiKey: "dev-key", maxRetries: 0 });
const messages = seed("chat.request").messages;
const expectedAnswer = seed("chat.response").choices[0].message.content;

describe("@azure-rest/ai-inference against the drop-in route", () => {
  it("completes", async () => {
    const response = await azure.path("/chat/completions").post({ body: { messages } });
    if (isUnexpected(response)) throw response.body.error;
    expect(response.body.choices[0]?.message.content).toBe(expectedAnswer);
    expect(response.body.usage.total_tokens).toBeGreaterThan(0);
  });

  it("streams with createSseStream", async () => {
    const response = await azure
      .path("/chat/completions")
      .post({ body: { messages, stream: true } })
      .asNodeStream();
    expect(response.status).toBe("200");
    let content = "";
    for await (const event of createSseStream(response.body!)) {
      if (event.data === "[DONE]") break;
      for (const choice of JSON.parse(event.data).choices) content += choice.delta?.content ?? "";
    }
    expect(content).toBe(expectedAnswer);
  });

  it("runs the seed's tool flow in two calls", async () => {
    const { tools, messages: start } = seed("tools.request");
    const history: any[] = [...start];
    const first = await azure.path("/chat/completions").post({ body: { messages: history, tools, tool_choice: "auto" } });
    if (isUnexpected(first)) throw first.body.error;
    const message = first.body.choices[0]!.message;
    expect(first.body.choices[0]?.finish_reason).toBe("tool_calls");
    history.push(message);
    for (const call of message.tool_calls ?? []) {
      const { origin_city, destination_city } = JSON.parse(call.function.arguments);
      history.push({
        role: "tool",
        tool_call_id: call.id,
        content: JSON.stringify({ info: `There are no flights available from ${origin_city} to ${destination_city}.` }),
      });
    }
    const second = await azure.path("/chat/completions").post({ body: { messages: history, tools } });
    if (isUnexpected(second)) throw second.body.error;
    expect(second.body.choices[0]?.message.content).toBe("There are no flights available from Miami to Seattle.");
  });

  it("sees a content-filter refusal as an unexpected 400 with code content_filter", async () => {
    const response = await azure.path("/chat/completions").post({ body: seed("content-filter.request") });
    expect(isUnexpected(response)).toBe(true);
    expect(response.status).toBe("400");
    expect((response.body as { error: { code: string } }).error.code).toBe("content_filter");
  });
});

describe("openai SDK against /api/v1", () => {
  it("creates a chat completion", async () => {
    const completion = await openai.chat.completions.create({ model: "mistral-large", messages });
    expect(completion.choices[0]?.message.content).toBe(expectedAnswer);
    expect(completion.model).toBe("Mistral-Large");
  });

  it("streams, with the usage chunk it asks for", async () => {
    const stream = await openai.chat.completions.create({ model: "mistral-small", messages, stream: true, stream_options: { include_usage: true } });
    let content = "";
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      content += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    expect(content).toBe(expectedAnswer);
    expect(usage?.total_tokens).toBeGreaterThan(0);
  });

  it("assembles streamed tool calls with its stream helper", async () => {
    const { tools, messages: start } = seed("tools.request");
    const stream = openai.chat.completions.stream({ model: "mistral-large", messages: start, tools, tool_choice: "auto" });
    const done: string[] = [];
    stream.on("tool_calls.function.arguments.done", (event) => done.push(event.name));
    const completion = await stream.finalChatCompletion();
    const call = completion.choices[0]?.message.tool_calls?.[0];
    expect(completion.choices[0]?.finish_reason).toBe("tool_calls");
    expect(call?.type).toBe("function");
    expect(call?.type === "function" && JSON.parse(call.function.arguments)).toEqual({ origin_city: "Miami", destination_city: "Seattle" });
    expect(done).toEqual(["get_flight_info"]);
  });

  it("raises the SDK's own errors: 401 for a wrong key, 400 for an unknown model", async () => {
    const wrong = new OpenAI({ baseURL: `${api}/v1`, apiKey: "not-a-key", maxRetries: 0 });
    await expect(wrong.chat.completions.create({ model: "mistral-large", messages })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    const error = await openai.chat.completions.create({ model: "gpt-4o", messages }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).code).toBe("model_not_found");
  });
});
