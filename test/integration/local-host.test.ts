import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APP_ROOT, startHost } from "../support/host.js";

/**
 * The local functions host, held to what the Azure Functions host does, with a fixture app that the
 * real @azure/functions library registers: routes, parameters, methods, auth levels, statuses,
 * headers, streamed bodies, hooks and a handler that throws. Both invocation modes must behave alike:
 * `proxy` (through the library's own HTTP-streaming proxy) and `direct` (the default).
 */
const FUNCTION_KEY = "fixture-function-key";

describe.each(["direct", "proxy"])("local functions host, %s invocation", (mode) => {
  let host: Awaited<ReturnType<typeof startHost>>;
  beforeAll(async () => {
    host = await startHost({ FUNCTIONS_HOST_KEY: FUNCTION_KEY, FUNCTIONS_HOST_MODE: mode }, join(APP_ROOT, "test", "fixtures", "host-app"));
  });
  afterAll(() => host?.stop());
  const url = (path: string) => `${host.url}/api${path}`;

  it("passes route parameters, query, method, headers and the URL, and returns status and headers", async () => {
    const response = await fetch(url("/items/42/widget?q=search"), { headers: { "x-test": "hello" } });
    expect(response.status).toBe(201);
    expect(response.headers.get("x-custom")).toBe("yes");
    expect(await response.json()).toEqual({
      id: "42",
      name: "widget",
      q: "search",
      method: "GET",
      url: `${host.url}/api/items/42/widget?q=search`,
      functionName: "items",
      header: "hello",
    });
  });

  it("honours optional parameters and route constraints", async () => {
    const optional = await fetch(url("/items/7"));
    expect(((await optional.json()) as { name: unknown }).name).toBeNull();
    expect((await fetch(url("/items/seven"))).status).toBe(404);
  });

  it("answers 404 for methods a function does not accept", async () => {
    expect((await fetch(url("/items/1"), { method: "DELETE" })).status).toBe(201);
    expect((await fetch(url("/items/1"), { method: "PUT" })).status).toBe(404);
  });

  it("passes request bodies through", async () => {
    const response = await fetch(url("/echo"), { method: "POST", headers: { "content-type": "application/json" }, body: '{"a":1}' });
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(await response.text()).toBe('{"a":1}');
  });

  it("streams a body as the function produces it, without waiting for its end", async () => {
    const response = await fetch(url("/ticker"));
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    // The function sends "second" only once released: this read completes only if "first" was streamed.
    const first = await reader.read();
    expect(decoder.decode(first.value)).toBe("first\n");
    await fetch(url("/release"), { method: "POST" });
    let rest = "";
    for (let part = await reader.read(); !part.done; part = await reader.read()) rest += decoder.decode(part.value);
    expect(rest).toBe("second\n");
  });

  it("requires a function key for function-level functions, as Azure does", async () => {
    expect((await fetch(url("/secret"))).status).toBe(401);
    expect((await fetch(url("/secret"), { headers: { "x-functions-key": "wrong" } })).status).toBe(401);
    expect(await (await fetch(url("/secret"), { headers: { "x-functions-key": FUNCTION_KEY } })).text()).toBe("secret");
    expect((await fetch(url(`/secret?code=${FUNCTION_KEY}`))).status).toBe(200);
  });

  it("routes a function without a route at its name, case-insensitively", async () => {
    expect(await (await fetch(url("/defaultRoute"))).text()).toBe("default");
    expect((await fetch(url("/DEFAULTROUTE"))).status).toBe(200);
  });

  it("answers 404, and keeps serving, for a path with a malformed escape", async () => {
    expect((await fetch(url("/items/%E0%A4%A"))).status).toBe(404);
    expect((await fetch(url("/items/1"))).status).toBe(201);
  });

  it("sets cookies a function returns", async () => {
    const response = await fetch(url("/cookie"));
    expect(response.headers.getSetCookie()).toEqual(["session=a%20b; Max-Age=60; Path=/; HttpOnly; Secure; SameSite=Strict"]);
  });

  it("answers 500 without detail when a handler throws", async () => {
    const response = await fetch(url("/boom"));
    expect(response.status).toBe(500);
    expect(await response.text()).toBe("");
  });

  it("runs the app's appStart and preInvocation hooks", async () => {
    const body = (await (await fetch(url("/hooks"))).json()) as { started: boolean; invocations: number };
    expect(body.started).toBe(true);
    expect(body.invocations).toBeGreaterThan(1);
  });
});
