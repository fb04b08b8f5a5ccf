import { createHash } from "node:crypto";
import { HttpRequest } from "@azure/functions";
import { describe, expect, it } from "vitest";
import { authenticateCaller, presentedKey } from "../../../src/http/caller-auth.js";

const digest = (key: string) => createHash("sha256").update(key).digest();
const keyList = [
  { name: "web", sha256: digest("web-key") },
  { name: "logic", sha256: digest("logic-key") },
];
const keys = { keys: keyList, platformAuth: false };
const request = (headers: Record<string, string>) => new HttpRequest({ url: "http://localhost/api/info", method: "GET", headers });

describe("presentedKey", () => {
  it("reads api-key first, then a bearer token", async () => {
    expect(presentedKey(request({ "api-key": "a", authorization: "Bearer b" }))).toBe("a");
    expect(presentedKey(request({ authorization: "bearer b" }))).toBe("b");
    expect(presentedKey(request({ authorization: "Basic b" }))).toBeUndefined();
    expect(presentedKey(request({}))).toBeUndefined();
  });
});

describe("authenticateCaller", () => {
  it("names the caller whose key matches", async () => {
    expect(await authenticateCaller(request({ "api-key": "logic-key" }), keys)).toEqual({ id: "key:logic", keyName: "logic" });
    expect(await authenticateCaller(request({ authorization: "Bearer web-key" }), keys)).toEqual({ id: "key:web", keyName: "web" });
  });

  it("refuses wrong, missing and near-miss keys, and everything when no keys are configured", async () => {
    expect(await authenticateCaller(request({ "api-key": "web-key " }), keys)).toEqual({ id: "key:web", keyName: "web" });
    expect(await authenticateCaller(request({ "api-key": "web-keyX" }), keys)).toBeUndefined();
    expect(await authenticateCaller(request({}), keys)).toBeUndefined();
    expect(await authenticateCaller(request({ "api-key": "web-key" }), { keys: [], platformAuth: false })).toBeUndefined();
  });
});

const OID = "4f1c8e0a-2b3d-4e5f-8a9b-0c1d2e3f4a5b";
const principal = (claims: { typ: string; val: string }[]) =>
  Buffer.from(JSON.stringify({ auth_typ: "aad", claims, name_typ: "name", role_typ: "roles" })).toString("base64");
const signedIn = principal([
  { typ: "name", val: "Ada" },
  { typ: "http://schemas.microsoft.com/identity/claims/objectidentifier", val: OID.toUpperCase() },
]);

describe("authenticateCaller with platform authentication", () => {
  const on = { keys: keyList, platformAuth: true };

  it("ignores a principal header when platform authentication is off: anyone could have written it", async () => {
    expect(await authenticateCaller(request({ "x-ms-client-principal": signedIn }), keys)).toBeUndefined();
  });

  it("trusts the principal when platform authentication is on, keyed by object id", async () => {
    expect(await authenticateCaller(request({ "x-ms-client-principal": signedIn }), on)).toEqual({ id: `entra:${OID}` });
    // The user's own Entra token arrives as a bearer token that is no caller key: the principal decides.
    expect(await authenticateCaller(request({ authorization: "Bearer eyJ0eXAi", "x-ms-client-principal": signedIn }), on)).toEqual({ id: `entra:${OID}` });
  });

  it("prefers a valid key, refuses a wrong api-key, and refuses principals without an object id", async () => {
    expect(await authenticateCaller(request({ "api-key": "web-key", "x-ms-client-principal": signedIn }), on)).toEqual({ id: "key:web", keyName: "web" });
    expect(await authenticateCaller(request({ "api-key": "wrong", "x-ms-client-principal": signedIn }), on)).toBeUndefined();
    expect(await authenticateCaller(request({ "x-ms-client-principal": principal([{ typ: "name", val: "Ada" }]) }), on)).toBeUndefined();
    expect(await authenticateCaller(request({ "x-ms-client-principal": principal([{ typ: "oid", val: "not-a-guid" }]) }), on)).toBeUndefined();
    expect(await authenticateCaller(request({ "x-ms-client-principal": "%%%not base64 json" }), on)).toBeUndefined();
    expect(await authenticateCaller(request({}), on)).toBeUndefined();
  });
});
