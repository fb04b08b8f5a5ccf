import { HttpRequest } from "@azure/functions";
import { describe, expect, it } from "vitest";
import { withMistralFields } from "../../../src/dropin/mistral-fields.js";
import { toUpstreamRequest } from "../../../src/dropin/upstream-request.js";
import { type ModelPort, ModelRegistry } from "../../../src/inference/index.js";
import { HttpProblem } from "../../../src/lib/problem.js";

const models = new ModelRegistry([{ alias: "mistral-large" } as ModelPort]);
const messages = [{ role: "user", content: "hi" }];

/** What `/api/v1` sends upstream for a body and headers. */
function upstreamOf(body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const request = new HttpRequest({ url: "http://x/api/v1/chat/completions", method: "POST", headers });
  return withMistralFields(toUpstreamRequest({ messages, ...body }, request, models));
}

function problem(body: Record<string, unknown>, headers?: Record<string, string>): HttpProblem {
  try {
    upstreamOf(body, headers);
  } catch (error) {
    expect(error).toBeInstanceOf(HttpProblem);
    return error as HttpProblem;
  }
  throw new Error("expected a problem");
}

describe("Mistral's own fields on /api/v1", () => {
  it("sends random_seed as the model APIs' seed, with no extra-parameters needed", () => {
    const upstream = upstreamOf({ random_seed: 42 });
    expect(upstream.body).toEqual({ messages, seed: 42 });
    expect(upstream.extraParameters).toBeUndefined();
    expect(upstreamOf({ random_seed: 7, seed: 7 }).body).toEqual({ messages, seed: 7 });
  });

  it("sends safe_prompt and Mistral's other fields with extra-parameters: pass-through, the caller having sent none", () => {
    const upstream = upstreamOf({ safe_prompt: true, parallel_tool_calls: false, prompt_mode: "reasoning", temperature: 0.2 });
    expect(upstream.body).toEqual({ messages, safe_prompt: true, parallel_tool_calls: false, prompt_mode: "reasoning", temperature: 0.2 });
    expect(upstream.extraParameters).toBe("pass-through");
  });

  it("leaves a body without Mistral's fields, and the caller's header, as they are", () => {
    expect(upstreamOf({ logprobs: true }, { "extra-parameters": "drop" })).toMatchObject({ body: { messages, logprobs: true }, extraParameters: "drop" });
    expect(upstreamOf({ logprobs: true })).toMatchObject({ body: { messages, logprobs: true }, extraParameters: undefined });
  });

  it("applies the caller's extra-parameters rule to the other unknown fields itself, as the model would", () => {
    expect(problem({ safe_prompt: true, logprobs: true })).toMatchObject({
      status: 400,
      code: "extra_parameters_not_allowed",
      extensions: { param: "logprobs" },
    });
    expect(problem({ safe_prompt: true, logprobs: true }).detail).toContain("Extra parameters ['logprobs'] are not allowed");
    const dropped = upstreamOf({ safe_prompt: true, logprobs: true }, { "extra-parameters": "drop" });
    expect(dropped).toMatchObject({ body: { messages, safe_prompt: true }, extraParameters: "pass-through" });
    expect(dropped.body).not.toHaveProperty("logprobs");
    const passed = upstreamOf({ safe_prompt: true, logprobs: true }, { "extra-parameters": "pass-through" });
    expect(passed).toMatchObject({ body: { messages, safe_prompt: true, logprobs: true }, extraParameters: "pass-through" });
  });

  it("refuses Mistral's fields of the wrong type, and a random_seed that contradicts seed, naming the field", () => {
    expect(problem({ safe_prompt: "yes" })).toMatchObject({
      code: "invalid_request",
      detail: "safe_prompt must be a boolean.",
      extensions: { param: "safe_prompt" },
    });
    expect(problem({ random_seed: -1 })).toMatchObject({ code: "invalid_request", extensions: { param: "random_seed" } });
    expect(problem({ random_seed: 1.5 })).toMatchObject({ extensions: { param: "random_seed" } });
    expect(problem({ random_seed: 1, seed: 2 })).toMatchObject({ detail: "random_seed and seed differ; send one of them." });
    expect(problem({ prediction: "text" })).toMatchObject({ extensions: { param: "prediction" } });
  });

  it("treats null as unset, as the drop-in does for every field", () => {
    const upstream = upstreamOf({ safe_prompt: null, random_seed: null });
    expect(upstream.body).toEqual({ messages });
    expect(upstream.extraParameters).toBeUndefined();
  });
});
