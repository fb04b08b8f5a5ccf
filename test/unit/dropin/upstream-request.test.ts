import { HttpRequest } from "@azure/functions";
import { describe, expect, it } from "vitest";
import { toUpstreamRequest } from "../../../src/dropin/upstream-request.js";
import { HttpProblem } from "../../../src/http/problem.js";
import { ModelRegistry, type ModelPort } from "../../../src/inference/index.js";

const port = (alias: string) => ({ alias }) as ModelPort;
const models = new ModelRegistry([port("mistral-large"), port("mistral-small")]);
const request = (headers: Record<string, string> = {}) => new HttpRequest({ url: "http://x/api/chat/completions", method: "POST", headers });
const messages = [{ role: "user", content: "hi" }];

function problem(body: unknown, headers?: Record<string, string>): HttpProblem {
  try {
    toUpstreamRequest(body, request(headers), models);
  } catch (error) {
    expect(error).toBeInstanceOf(HttpProblem);
    return error as HttpProblem;
  }
  throw new Error("expected a problem");
}

describe("toUpstreamRequest", () => {
  it("picks the default deployment and forwards the body without model, stream or OpenAI-only fields", () => {
    const upstream = toUpstreamRequest({ messages, temperature: 0, logprobs: true, stream_options: { include_usage: true }, n: 1, stream: false }, request(), models);
    expect(upstream.port.alias).toBe("mistral-large");
    expect(upstream.body).toEqual({ messages, temperature: 0, logprobs: true });
    expect(upstream).toMatchObject({ stream: false, includeUsage: false, extraParameters: undefined });
  });

  it("picks the deployment named by model and reads the stream options", () => {
    const upstream = toUpstreamRequest({ messages, model: "mistral-small", stream: true, stream_options: { include_usage: true } }, request(), models);
    expect(upstream).toMatchObject({ stream: true, includeUsage: true });
    expect(upstream.port.alias).toBe("mistral-small");
  });

  it("turns max_completion_tokens into max_tokens unless max_tokens is given", () => {
    expect(toUpstreamRequest({ messages, max_completion_tokens: 5 }, request(), models).body.max_tokens).toBe(5);
    expect(toUpstreamRequest({ messages, max_completion_tokens: 5, max_tokens: 7 }, request(), models).body.max_tokens).toBe(7);
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
});
