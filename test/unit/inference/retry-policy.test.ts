import { describe, expect, it } from "vitest";
import { ModelError, type ModelErrorKind } from "../../../src/inference/index.js";
import { backoffMs, isRetryable } from "../../../src/inference/retry-policy.js";

const error = (kind: ModelErrorKind, status: number, code = "x") => new ModelError({ kind, status, code, message: "m" });

describe("isRetryable", () => {
  it.each([408, 429, 500, 502, 503, 504])("retries an upstream %i", (status) => {
    expect(isRetryable(error("upstream", status))).toBe(true);
  });

  it.each([400, 401, 403, 404, 413, 422])("never retries an upstream %i", (status) => {
    expect(isRetryable(error("upstream", status))).toBe(false);
  });

  it("retries a connection that failed before an answer, but not a broken stream, a timeout or a bad answer", () => {
    expect(isRetryable(error("network", 502, "upstream_unreachable"))).toBe(true);
    expect(isRetryable(error("network", 502, "upstream_stream_broken"))).toBe(false);
    expect(isRetryable(error("timeout", 504, "upstream_timeout"))).toBe(false);
    expect(isRetryable(error("protocol", 502, "bad_upstream_response"))).toBe(false);
    expect(isRetryable(error("upstream", 400, "content_filter"))).toBe(false);
  });
});

describe("backoffMs", () => {
  it("grows exponentially, jittered between a tenth of the ceiling and the ceiling", () => {
    expect(backoffMs(0, 100, () => 0)).toBe(10);
    expect(backoffMs(0, 100, () => 1)).toBe(100);
    expect(backoffMs(3, 100, () => 1)).toBe(800);
    expect(backoffMs(3, 100, () => 0.5)).toBe(440);
  });
});
