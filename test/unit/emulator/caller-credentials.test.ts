import { describe, expect, it } from "vitest";
import { isAuthorized } from "../../../dev/emulator/caller-credentials.js";
import { mintDevToken } from "../../../dev/identity/dev-token.js";

const entra = { signingKey: "signing-key", audience: "https://cognitiveservices.azure.com" };
const token = (audience: string, signingKey = entra.signingKey) => mintDevToken({ audience, tenantId: "t", clientId: "c", objectId: "o" }, signingKey);

describe("isAuthorized", () => {
  it("accepts the key as api-key or Bearer, and nothing else without entra", () => {
    expect(isAuthorized({ "api-key": "k" }, "k", undefined)).toBe(true);
    expect(isAuthorized({ authorization: "Bearer k" }, "k", undefined)).toBe(true);
    expect(isAuthorized({ "api-key": "x" }, "k", undefined)).toBe(false);
    expect(isAuthorized({ authorization: `Bearer ${token(entra.audience)}` }, "k", undefined)).toBe(false);
  });

  it("with entra, accepts a Bearer token for the audience, and refuses another audience, key or a token as api-key", () => {
    expect(isAuthorized({ authorization: `Bearer ${token(entra.audience)}` }, "k", entra)).toBe(true);
    expect(isAuthorized({ authorization: `Bearer ${token("https://vault.azure.net")}` }, "k", entra)).toBe(false);
    expect(isAuthorized({ authorization: `Bearer ${token(entra.audience, "other-key")}` }, "k", entra)).toBe(false);
    expect(isAuthorized({ "api-key": token(entra.audience) }, "k", entra)).toBe(false);
    expect(isAuthorized({}, "k", entra)).toBe(false);
  });
});
