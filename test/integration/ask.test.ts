import { describe, expect, it } from "vitest";
import { postJson } from "../support/emulator.js";
import { useOwnApp } from "../support/host.js";

/**
 * `POST /api/ask`, the simple operation: a prompt in; the answer's text, its parsed JSON and the
 * conversation to send next time out, on the same engine and checks as /api/chat.
 */
const app = useOwnApp();
const dev = { "api-key": "dev-key" };
const ask = (body: unknown, headers: Record<string, string> = {}) => postJson(`${app.host.url}/api/ask`, body, { ...dev, ...headers });
const sent = () =>
  app.emulator.emulator.log
    .entries()
    .filter((entry) => entry.path.endsWith("/chat/completions"))
    .map((entry) => entry.body as { messages: { role: string; content: string }[]; response_format?: unknown; max_tokens?: number });

describe("POST /api/ask", () => {
  it("answers a prompt with the text, and the conversation to send next time", async () => {
    const { status, json, response } = await ask({ prompt: "How many languages are in the world?" });
    expect(status).toBe(200);
    expect(response.headers.get("x-model-deployment")).toBe("mistral-large");
    expect(json).toEqual({
      id: expect.any(String),
      model: "mistral-large",
      created: expect.any(Number),
      answer: expect.stringMatching(/7,000 languages/),
      messages: [
        { role: "user", content: "How many languages are in the world?" },
        { role: "assistant", content: json.answer },
      ],
      finish_reason: "stop",
      usage: { prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number), total_tokens: expect.any(Number) },
    });
    expect(sent()[0]?.messages).toEqual([{ role: "user", content: "How many languages are in the world?" }]);
  });

  it("continues a conversation: the earlier messages, the system text in its place, then the new prompt", async () => {
    const first = await ask({ prompt: "How many languages are in the world?", system: "Answer briefly." });
    expect(first.json.messages[0]).toEqual({ role: "system", content: "Answer briefly." });
    const next = await ask({
      prompt: "And in Europe?",
      messages: first.json.messages,
      system: "Answer in one sentence.",
      model: "mistral-small",
      max_tokens: 50,
    });
    expect(next.status).toBe(200);
    expect(next.json.model).toBe("mistral-small");
    const second = sent()[1];
    expect(second?.messages).toEqual([
      { role: "system", content: "Answer in one sentence." },
      { role: "user", content: "How many languages are in the world?" },
      { role: "assistant", content: first.json.answer },
      { role: "user", content: "And in Europe?" },
    ]);
    expect(second?.max_tokens).toBe(50);
    expect(next.json.messages).toHaveLength(5);
  });

  it("returns JSON mode's answer parsed and checked against the caller's schema", async () => {
    const schema = { type: "object", properties: { answer: { type: "string" } }, required: ["answer"], additionalProperties: false };
    const { status, json } = await ask({ prompt: "Hi", response_format: { type: "json_schema", json_schema: { name: "answer", schema } } });
    expect(status).toBe(200);
    expect(json.parsed).toEqual({ answer: "answer" });
    expect(JSON.parse(json.answer)).toEqual(json.parsed);
  });

  it("refuses what is not an Ask, naming the field, before the model is called", async () => {
    const cases: [unknown, string | null, string][] = [
      [{}, "prompt", "required"],
      [{ prompt: "" }, "prompt", "minLength"],
      [{ prompt: "Hi", temperature: 3 }, "temperature", "maximum"],
      [{ prompt: "Hi", messages: [{ role: "tool", content: "{}" }] }, "messages[0].role", "const"],
      [{ prompt: "Hi", stream: true }, "stream", "unknown_field"],
      [[], null, "type"],
    ];
    for (const [body, param, rule] of cases) {
      const { status, json } = await ask(body);
      expect(status, JSON.stringify(body)).toBe(400);
      expect(json).toMatchObject({ code: "invalid_request", param, rule });
    }
    expect((await ask({ prompt: "Hi", model: "nope" })).json.code).toBe("model_not_found");
    expect(sent()).toHaveLength(0);
  });

  it("replays a keyed retry, and answers 405 for other methods", async () => {
    const first = await ask({ prompt: "Hi" }, { "idempotency-key": "ask-once" });
    const again = await ask({ prompt: "Hi" }, { "idempotency-key": "ask-once" });
    expect(again.response.headers.get("idempotent-replayed")).toBe("true");
    expect(again.json).toEqual(first.json);
    expect(sent()).toHaveLength(1);
    const get = await fetch(`${app.host.url}/api/ask`, { headers: dev });
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
  });
});
