import { describe, expect, it } from "vitest";
import { sdkError } from "../../../src/http/sdk-error.js";
import { ModelError, type ModelErrorKind } from "../../../src/inference/index.js";
import { modelErrorProblem } from "../../../src/lib/to-problem.js";

const upstream = (status: number, code = "x", extra: Partial<ConstructorParameters<typeof ModelError>[0]> = {}) =>
  new ModelError({ kind: "upstream", status, code, message: "m", ...extra });
const other = (kind: ModelErrorKind, code: string) => new ModelError({ kind, status: 502, code, message: "m" });

describe("modelErrorProblem", () => {
  it.each([
    [upstream(400, "content_filter", { param: "prompt" }), 400, "content_filter"],
    [upstream(422, "invalid_request"), 422, "invalid_request"],
    [upstream(401), 502, "upstream_auth_failed"],
    [upstream(403), 502, "upstream_auth_failed"],
    [upstream(404), 502, "upstream_error"],
    [upstream(408), 504, "upstream_timeout"],
    [upstream(429, "429"), 429, "rate_limited"],
    [upstream(500), 502, "upstream_error"],
    [upstream(502), 502, "upstream_error"],
    [upstream(503), 503, "upstream_unavailable"],
    [upstream(504), 504, "upstream_timeout"],
    [other("timeout", "upstream_timeout"), 504, "upstream_timeout"],
    [other("network", "upstream_unreachable"), 502, "upstream_unreachable"],
    [other("protocol", "bad_upstream_response"), 502, "bad_upstream_response"],
  ])("maps %o to %i %s", (error, status, code) => {
    const problem = modelErrorProblem(error);
    expect([problem.status, problem.code]).toEqual([status, code]);
  });

  it("keeps the model's param for caller mistakes, and turns Retry-After into seconds and milliseconds", () => {
    expect(modelErrorProblem(upstream(400, "content_filter", { param: "prompt" })).extensions).toEqual({ param: "prompt" });
    expect(modelErrorProblem(upstream(429, "429", { retryAfterMs: 1500 })).headers).toEqual({ "retry-after": "2", "retry-after-ms": "1500" });
    expect(modelErrorProblem(upstream(503, "x", { retryAfterMs: 10 })).headers["retry-after"]).toBe("1");
  });
});

describe("sdkError", () => {
  it("has the fields SDKs parse and OpenAI's error types", () => {
    const body = sdkError(modelErrorProblem(upstream(429, "429")), "req-1");
    expect(body).toEqual({ code: "rate_limited", message: "m", type: "rate_limit_error", param: null, request_id: "req-1" });
    expect(sdkError(modelErrorProblem(upstream(500)), "r").type).toBe("server_error");
    expect(sdkError(modelErrorProblem(upstream(400, "content_filter", { param: "prompt" })), "r")).toMatchObject({
      type: "invalid_request_error",
      param: "prompt",
    });
  });
});
