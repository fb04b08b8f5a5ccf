import { describe, expect, it } from "vitest";
import { compileRoute } from "../../../dev/host/route-template.js";

describe("compileRoute", () => {
  it("matches literal routes case-insensitively, ignoring slashes at the ends", () => {
    const route = compileRoute("api/health/ready");
    expect(route.match("/api/health/ready")).toEqual({});
    expect(route.match("/API/Health/Ready/")).toEqual({});
    expect(route.match("/api/health")).toBeUndefined();
    expect(route.match("/api/health/ready/more")).toBeUndefined();
  });

  it("captures parameters, decoded, and honours optional ones and constraints", () => {
    const route = compileRoute("api/items/{id:int}/{name?}");
    expect(route.match("/api/items/42/a%20b")).toEqual({ id: "42", name: "a b" });
    expect(route.match("/api/items/42")).toEqual({ id: "42" });
    expect(route.match("/api/items/abc")).toBeUndefined();
  });

  it("matches nothing for a malformed escape, instead of failing", () => {
    expect(compileRoute("api/items/{id}").match("/api/items/%E0%A4%A")).toBeUndefined();
    expect(compileRoute("api/{*rest}").match("/api/a/%ZZ")).toBeUndefined();
  });

  it("captures the rest of the path with a catch-all", () => {
    const route = compileRoute("api/files/{*path}");
    expect(route.match("/api/files/a/b/c.txt")).toEqual({ path: "a/b/c.txt" });
    expect(route.match("/api/files")).toEqual({});
  });

  it("ranks literal routes before parameter routes and catch-alls last", () => {
    const literal = compileRoute("api/chat/stream");
    const param = compileRoute("api/chat/{id}");
    const catchAll = compileRoute("api/{*rest}");
    expect(literal.precedence).toBeGreaterThan(param.precedence);
    expect(param.precedence).toBeGreaterThan(catchAll.precedence);
  });
});
