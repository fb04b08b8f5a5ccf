import { describe, expect, it } from "vitest";
import { retryAfterMs } from "../../../src/inference/retry-after.js";
import { modelErrorFromResponse } from "../../../src/inference/upstream-error.js";
import { safeText } from "../../../src/lib/safe-text.js";

const headers = (values: Record<string, string>) => (name: string) => values[name];

describe("retryAfterMs", () => {
  it("prefers retry-after-ms, then x-ms-retry-after-ms, then Retry-After seconds", () => {
    expect(retryAfterMs(headers({ "retry-after-ms": "250", "retry-after": "9" }))).toBe(250);
    expect(retryAfterMs(headers({ "x-ms-retry-after-ms": "99.2" }))).toBe(100);
    expect(retryAfterMs(headers({ "retry-after": "3" }))).toBe(3000);
    expect(retryAfterMs(headers({ "retry-after": "0.5" }))).toBe(500);
  });

  it("reads an HTTP date relative to now, never negative", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(retryAfterMs(headers({ "retry-after": "Thu, 01 Jan 2026 00:00:10 GMT" }), now)).toBe(10_000);
    expect(retryAfterMs(headers({ "retry-after": "Wed, 31 Dec 2025 23:59:00 GMT" }), now)).toBe(0);
  });

  it("is undefined when absent or unreadable", () => {
    expect(retryAfterMs(headers({}))).toBeUndefined();
    expect(retryAfterMs(headers({ "retry-after": "soon" }))).toBeUndefined();
    expect(retryAfterMs(headers({ "retry-after-ms": "-5" }))).toBeUndefined();
  });
});

describe("safeText", () => {
  it("replaces URLs and secrets and caps the length", () => {
    expect(safeText("see https://a.b/c?d=1 and http://x", [])).toBe("see [url] and [url]");
    expect(safeText("key sk-12345 leaked", ["sk-12345"])).toBe("key [redacted] leaked");
    expect(safeText("x".repeat(600))).toHaveLength(503);
    expect(safeText("failed at myres.eastus2.models.ai.azure.com/mistral-large today")).toBe("failed at [host] today");
    // An address names our network as much as a host name does (#20).
    expect(safeText("at 10.0.0.4:443 or api.local:8080/x")).toBe("at [host] or [host]");
    expect(safeText("temperature must be 0.0 to 1.0, e.g. 0.7")).toBe("temperature must be 0.0 to 1.0, e.g. 0.7");
  });
});

describe("modelErrorFromResponse", () => {
  it("keeps the upstream error's code, message, param and type", () => {
    const error = modelErrorFromResponse(
      { status: 400, header: headers({}), body: { error: { code: "content_filter", message: "filtered", param: "prompt", type: null } } },
      [],
    );
    expect(error).toMatchObject({ kind: "upstream", status: 400, code: "content_filter", message: "filtered", param: "prompt", type: null });
  });

  it("parses a JSON body that arrived as text, and a bare error string", () => {
    expect(modelErrorFromResponse({ status: 422, header: headers({}), body: '{"error":{"message":"bad"}}' }, []).message).toBe("bad");
    expect(modelErrorFromResponse({ status: 500, header: headers({}), body: { error: "oops" } }, []).message).toBe("oops");
  });

  it("names the status when the body says nothing useful", () => {
    const error = modelErrorFromResponse({ status: 503, header: headers({ "retry-after": "4" }), body: "<html>down</html>" }, []);
    expect(error).toMatchObject({ code: "service_unavailable", message: "The model endpoint answered 503.", retryAfterMs: 4000 });
    expect(modelErrorFromResponse({ status: 418, header: headers({}), body: undefined }, []).code).toBe("http_418");
  });

  it("removes our secrets from everything it keeps", () => {
    const error = modelErrorFromResponse(
      { status: 401, header: headers({}), body: { error: { code: "bad key abc123secret", message: "key abc123secret is wrong" } } },
      ["abc123secret"],
    );
    expect(JSON.stringify({ ...error, message: error.message })).not.toContain("abc123secret");
  });
});
