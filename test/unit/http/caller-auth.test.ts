import { createHash } from "node:crypto";
import { HttpRequest } from "@azure/functions";
import { describe, expect, it } from "vitest";
import { authenticateCaller, presentedKey } from "../../../src/http/caller-auth.js";

const digest = (key: string) => createHash("sha256").update(key).digest();
const keys = [
  { name: "web", sha256: digest("web-key") },
  { name: "logic", sha256: digest("logic-key") },
];
const request = (headers: Record<string, string>) => new HttpRequest({ url: "http://localhost/api/info", method: "GET", headers });

describe("presentedKey", () => {
  it("reads api-key first, then a bearer token", () => {
    expect(presentedKey(request({ "api-key": "a", authorization: "Bearer b" }))).toBe("a");
    expect(presentedKey(request({ authorization: "bearer b" }))).toBe("b");
    expect(presentedKey(request({ authorization: "Basic b" }))).toBeUndefined();
    expect(presentedKey(request({}))).toBeUndefined();
  });
});

describe("authenticateCaller", () => {
  it("names the caller whose key matches", () => {
    expect(authenticateCaller(request({ "api-key": "logic-key" }), keys)).toEqual({ id: "key:logic" });
    expect(authenticateCaller(request({ authorization: "Bearer web-key" }), keys)).toEqual({ id: "key:web" });
  });

  it("refuses wrong, missing and near-miss keys, and everything when no keys are configured", () => {
    expect(authenticateCaller(request({ "api-key": "web-key " }), keys)).toEqual({ id: "key:web" });
    expect(authenticateCaller(request({ "api-key": "web-keyX" }), keys)).toBeUndefined();
    expect(authenticateCaller(request({}), keys)).toBeUndefined();
    expect(authenticateCaller(request({ "api-key": "web-key" }), [])).toBeUndefined();
  });
});
