import { HttpRequest } from "@azure/functions";
import { describe, expect, it } from "vitest";
import { toUpstreamRequest } from "../../../src/dropin/upstream-request.js";
import { type ModelPort, ModelRegistry } from "../../../src/inference/index.js";
import { HttpProblem } from "../../../src/lib/problem.js";

const port = (alias: string) => ({ alias }) as ModelPort;
const models = new ModelRegistry([port("mistral-large"), port("mistral-small")]);
const request = (headers: Record<string, string> = {}) => new HttpRequest({ url: "http://x/api/chat/completions", method: "POST", headers });
const messages = [{ role: "user", content: "hi" }];

function problem(body: unknown, headers?: Record<string, string>, ceiling?: number): HttpProblem {
  try {
    toUpstreamRequest(body, request(headers), models, ceiling);
  } catch (error) {
    expect(error).toBeInstanceOf(HttpProblem);
    return error as HttpProblem;
  }
  throw new Error("expected a problem");
}

describe("toUpstreamRequest", () => {
  it("picks the default deployment and forwards the body without model, stream or OpenAI-only fields", () => {
    const upstream = toUpstreamRequest(
      { messages, temperature: 0, logprobs: true, stream_options: { include_usage: true }, n: 1, stream: false },
      request(),
      models,
    );
    expect(upstream.port.alias).toBe("mistral-large");
    expect(upstream.body).toEqual({ messages, temperature: 0, logprobs: true });
    expect(upstream).toMatchObject({ stream: false, includeUsage: false, extraParameters: undefined });
  });

  it("picks the deployment named by model and reads the stream options", () => {
    const upstream = toUpstreamRequest({ messages, model: "mistral-small", stream: true, stream_options: { include_usage: true } }, request(), models);
    expect(upstream).toMatchObject({ stream: true, includeUsage: true });
    expect(upstream.port.alias).toBe("mistral-small");
  });

  it("turns max_completion_tokens into max_tokens, and refuses the two when they differ", () => {
    expect(toUpstreamRequest({ messages, max_completion_tokens: 5 }, request(), models).body).toEqual({ messages, max_tokens: 5 });
    expect(toUpstreamRequest({ messages, max_completion_tokens: 5, max_tokens: 5 }, request(), models).body).toEqual({ messages, max_tokens: 5 });
    expect(toUpstreamRequest({ messages, max_completion_tokens: null, max_tokens: 7 }, request(), models).body).toEqual({ messages, max_tokens: 7 });
    expect(toUpstreamRequest({ messages, max_completion_tokens: 7, max_tokens: null }, request(), models).body).toEqual({ messages, max_tokens: 7 });
    const differ = problem({ messages, max_completion_tokens: 5, max_tokens: 7 });
    expect(differ).toMatchObject({ status: 400, code: "invalid_request", extensions: { param: "max_completion_tokens" } });
  });

  it("reads extra-parameters, and the seed's extra-params: passthrough", () => {
    expect(toUpstreamRequest({ messages }, request({ "extra-parameters": "drop" }), models).extraParameters).toBe("drop");
    expect(toUpstreamRequest({ messages }, request({ "extra-params": "passthrough" }), models).extraParameters).toBe("pass-through");
    expect(problem({ messages }, { "extra-parameters": "ignore" }).extensions.param).toBe("extra-parameters");
  });

  it("refuses what cannot be forwarded, naming the field", () => {
    expect(problem([]).status).toBe(400);
    expect(problem({}).extensions.param).toBe("messages");
    expect(problem({ messages: [] }).extensions.param).toBe("messages");
    expect(problem({ messages, stream: "yes" }).extensions.param).toBe("stream");
    expect(problem({ messages, n: 3 }).extensions.param).toBe("n");
    const unknown = problem({ messages, model: "gpt-4o" });
    expect(unknown.code).toBe("model_not_found");
    expect(unknown.detail).toBe('Unknown model "gpt-4o". Known models: mistral-large, mistral-small.');
  });

  it("refuses messages entries that are not objects with a string role, naming the entry", () => {
    for (const entry of [null, "hi", 3, [], { content: "hi" }, { role: 1, content: "hi" }, { role: null }]) {
      const refused = problem({ messages: [...messages, entry] });
      expect(refused.status).toBe(400);
      expect(refused.extensions.param).toBe("messages[1]");
    }
    expect(problem({ messages: "hi" }).extensions.param).toBe("messages");
    expect(problem({ messages: { role: "user" } }).extensions.param).toBe("messages");
    expect(problem({ messages: null }).extensions.param).toBe("messages");
  });

  it("refuses stream and stream_options of the wrong type", () => {
    for (const value of ["true", 1, {}]) expect(problem({ messages, stream: value }).extensions.param).toBe("stream");
    for (const value of [true, "yes", 1, []]) expect(problem({ messages, stream_options: value }).extensions.param).toBe("stream_options");
    expect(toUpstreamRequest({ messages, stream: null, stream_options: null }, request(), models)).toMatchObject({
      stream: false,
      includeUsage: false,
      body: { messages },
    });
  });

  it("takes n = 1 only", () => {
    for (const value of [2, 0, "1", 1.5, true]) expect(problem({ messages, n: value }).extensions.param).toBe("n");
    expect(toUpstreamRequest({ messages, n: null }, request(), models).body).toEqual({ messages });
  });

  it("leaves fields sent as null out of the upstream body", () => {
    const nulls = {
      max_tokens: null,
      temperature: null,
      top_p: null,
      presence_penalty: null,
      frequency_penalty: null,
      seed: null,
      top_logprobs: null,
      logprobs: null,
    };
    expect(toUpstreamRequest({ messages, ...nulls }, request(), models, 100).body).toEqual({ messages });
  });

  it("passes valid numbers through untouched, at the edges of their ranges too", () => {
    const low = {
      temperature: 0,
      top_p: 0,
      presence_penalty: -2,
      frequency_penalty: -2,
      seed: Number.MIN_SAFE_INTEGER,
      top_logprobs: 0,
      logprobs: false,
      max_tokens: 1,
    };
    const high = {
      temperature: 2,
      top_p: 1,
      presence_penalty: 2,
      frequency_penalty: 2,
      seed: Number.MAX_SAFE_INTEGER,
      top_logprobs: 20,
      logprobs: true,
      max_tokens: 100,
    };
    const middle = { temperature: 0.7, top_p: 0.95, presence_penalty: 0.1, frequency_penalty: -0.8, seed: 42, top_logprobs: 5, max_tokens: 50 };
    for (const fields of [low, high, middle]) {
      expect(toUpstreamRequest({ messages, ...fields }, request(), models, 100).body).toEqual({ messages, ...fields });
    }
  });

  describe.each(["max_tokens", "max_completion_tokens"])("%s", (field) => {
    it.each([
      ["a numeric string", "100000"],
      ["a small numeric string", "5"],
      ["a NaN-like string", "NaN"],
      ["an Infinity string", "Infinity"],
      ["an empty string", ""],
      ["a fraction", 1.5],
      ["zero", 0],
      ["a negative number", -1],
      ["a huge negative number", -1e20],
      ["a boolean", true],
      ["an array", [5]],
      ["an object", { value: 5 }],
    ])("refuses %s with a 400 naming the field", (_name, value) => {
      for (const ceiling of [4096, undefined]) {
        const refused = problem({ messages, [field]: value }, undefined, ceiling);
        expect(refused).toMatchObject({ status: 400, code: "invalid_request", extensions: { param: field } });
        expect(refused.detail).toBe(ceiling === undefined ? `${field} must be an integer of at least 1.` : `${field} must be an integer from 1 to 4096.`);
      }
    });

    it("refuses a value over the ceiling, huge ones included, as max_tokens over the ceiling", () => {
      for (const value of [4097, 1e20, Number.MAX_VALUE]) {
        const refused = problem({ messages, [field]: value }, undefined, 4096);
        expect(refused).toMatchObject({
          status: 400,
          code: "invalid_request",
          detail: `${field} may be at most 4096 here.`,
          extensions: { param: field, rule: "maximum" },
        });
      }
    });

    it("refuses integers past 2^53 even without a ceiling", () => {
      expect(problem({ messages, [field]: 2 ** 53 }).extensions.param).toBe(field);
      expect(problem({ messages, [field]: 1e300 }).extensions.param).toBe(field);
    });

    it("sends the value upstream as max_tokens, up to the ceiling itself", () => {
      for (const value of [1, 1000, 4096]) {
        expect(toUpstreamRequest({ messages, [field]: value }, request(), models, 4096).body).toEqual({ messages, max_tokens: value });
      }
      expect(toUpstreamRequest({ messages, [field]: 2 ** 53 - 1 }, request(), models).body.max_tokens).toBe(2 ** 53 - 1);
    });

    it("sends no max_tokens when it is null or absent", () => {
      expect(toUpstreamRequest({ messages, [field]: null }, request(), models, 4096).body).toEqual({ messages });
      expect("max_tokens" in toUpstreamRequest({ messages }, request(), models, 4096).body).toBe(false);
    });
  });

  it.each([
    ["temperature", "a number from 0 to 2", [-0.01, 2.01, 3, -1, 1e20, -1e20, "0.5", "NaN", "", true, [1], {}]],
    ["top_p", "a number from 0 to 1", [-0.1, 1.01, 2, 1e20, "1", "NaN", false, [0.5]]],
    ["presence_penalty", "a number from -2 to 2", [-2.01, 2.01, 1e20, -1e20, "1", "NaN", true, {}]],
    ["frequency_penalty", "a number from -2 to 2", [-2.01, 2.01, 1e20, -1e20, "-1", "Infinity", true, []]],
    ["seed", `an integer from ${Number.MIN_SAFE_INTEGER} to ${Number.MAX_SAFE_INTEGER}`, [1.5, -0.5, 2 ** 53, -(2 ** 53), 1e20, "42", "NaN", true, {}]],
    ["top_logprobs", "an integer from 0 to 20", [-1, 21, 2.5, 1e20, "5", "NaN", true, []]],
    ["logprobs", "a boolean", ["true", 1, 0, "false", {}, []]],
  ] as const)("refuses a bad %s with a 400 naming the field and the rule", (field, rule, values) => {
    for (const value of values) {
      const refused = problem({ messages, [field]: value });
      expect(refused).toMatchObject({ status: 400, code: "invalid_request", title: "Bad Request", extensions: { param: field } });
      expect(refused.detail).toBe(`${field} must be ${rule}.`);
    }
  });

  it("never echoes a large value back", () => {
    const huge = "9".repeat(10_000);
    for (const field of [
      "max_tokens",
      "max_completion_tokens",
      "temperature",
      "top_p",
      "presence_penalty",
      "frequency_penalty",
      "seed",
      "top_logprobs",
      "logprobs",
      "n",
      "stream",
      "stream_options",
      "model",
    ]) {
      const refused = problem({ messages, [field]: field === "model" ? { huge } : huge });
      expect(refused.status).toBe(400);
      expect(refused.detail.length).toBeLessThan(200);
    }
    const unknown = problem({ messages, model: huge });
    expect(unknown.code).toBe("model_not_found");
    expect(unknown.detail.length).toBeLessThan(200);
  });

  it("throws nothing but HttpProblems, whatever the body", () => {
    const odd: unknown[] = [
      null,
      undefined,
      0,
      "x",
      true,
      [],
      [messages],
      { messages: [[]] },
      { messages, model: 5 },
      { messages, max_tokens: Number.NaN },
      { messages, temperature: Number.NaN },
      { messages, seed: Number.POSITIVE_INFINITY },
      JSON.parse('{"__proto__": {"max_tokens": 5}, "messages": [{"role": "user"}], "max_tokens": "5"}'),
    ];
    for (const body of odd) expect(problem(body).status).toBe(400);
  });
});
