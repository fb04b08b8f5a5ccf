import { describe, expect, it } from "vitest";
import { findIdentity, knownIdentity, objectIdFor, parseTokenRequest } from "../../../dev/identity/app-service-protocol.js";

const query = (text: string) => new URLSearchParams(text);

describe("parseTokenRequest", () => {
  it("reads the resource and which identity is named, as MSAL sends them", () => {
    expect(parseTokenRequest(query("api-version=2019-08-01&resource=https://vault.localhost&client_id=abc"))).toEqual({
      ok: true,
      resource: "https://vault.localhost",
      selector: { by: "client_id", value: "abc" },
    });
    expect(parseTokenRequest(query("api-version=2019-08-01&resource=r&mi_res_id=/subscriptions/x"))).toMatchObject({
      selector: { by: "mi_res_id", value: "/subscriptions/x" },
    });
    expect(parseTokenRequest(query("api-version=2019-08-01&resource=r"))).toMatchObject({ ok: true, selector: { by: "system" } });
  });

  it("refuses a missing resource, a missing or other api-version, and two identities at once, with 400", () => {
    expect(parseTokenRequest(query("api-version=2019-08-01"))).toEqual({ ok: false, status: 400, message: "Required query parameter resource is missing." });
    expect(parseTokenRequest(query("resource=r"))).toMatchObject({ ok: false, status: 400 });
    expect(parseTokenRequest(query("api-version=2017-09-01&resource=r"))).toMatchObject({ ok: false, status: 400 });
    expect(parseTokenRequest(query("api-version=2019-08-01&resource=r&client_id=a&object_id=b"))).toMatchObject({ ok: false, status: 400 });
  });
});

describe("findIdentity", () => {
  const known = [
    knownIdentity({ clientId: "AAAA-1", resourceId: "/subscriptions/S/identities/one" }),
    knownIdentity({ clientId: "bbbb-2", objectId: "oid-2" }),
  ];

  it("finds a user-assigned identity by client id, object id or resource id, ignoring case", () => {
    expect(findIdentity(known, undefined, { by: "client_id", value: "aaaa-1" })?.clientId).toBe("AAAA-1");
    expect(findIdentity(known, undefined, { by: "object_id", value: "OID-2" })?.clientId).toBe("bbbb-2");
    expect(findIdentity(known, undefined, { by: "mi_res_id", value: "/subscriptions/s/identities/ONE" })?.clientId).toBe("AAAA-1");
    expect(findIdentity(known, undefined, { by: "client_id", value: "cccc-3" })).toBeUndefined();
  });

  it("answers the system-assigned identity only when the app has one", () => {
    expect(findIdentity(known, undefined, { by: "system" })).toBeUndefined();
    const system = knownIdentity({ clientId: "sys" });
    expect(findIdentity(known, system, { by: "system" })).toBe(system);
  });
});

describe("objectIdFor", () => {
  it("derives a stable GUID-shaped object id that differs from the client id", () => {
    const id = objectIdFor("11111111-2222-3333-4444-555555555555");
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(objectIdFor("11111111-2222-3333-4444-555555555555".toUpperCase())).toBe(id);
    expect(objectIdFor("other")).not.toBe(id);
  });
});
