import { describe, expect, it } from "vitest";
import { SecretStore, toBundle } from "../../../dev/keyvault/secret-store.js";

describe("SecretStore", () => {
  it("adds a version on every set; the unversioned read answers the newest, a versioned read that one", () => {
    const store = new SecretStore();
    const first = store.set("model-key", "one");
    const second = store.set("Model-Key", "two");
    expect(first.version).toMatch(/^[0-9a-f]{32}$/);
    expect(second.version).not.toBe(first.version);
    expect(store.get("MODEL-KEY")?.value).toBe("two");
    expect(store.get("model-key", first.version)?.value).toBe("one");
    expect(store.get("model-key", "0".repeat(32))).toBeUndefined();
    expect(store.get("other")).toBeUndefined();
  });

  it("refuses names Key Vault refuses", () => {
    expect(() => new SecretStore().set("model_key", "x")).toThrow(/invalid secret name/);
  });

  it("answers Key Vault's SecretBundle, whose id is the version's URL under the vault", () => {
    const entry = new SecretStore().set("model-key", "value");
    expect(toBundle("https://local.vault.localhost:8443/", entry)).toEqual({
      value: "value",
      id: `https://local.vault.localhost:8443/secrets/model-key/${entry.version}`,
      attributes: { enabled: true, created: entry.created, updated: entry.created, recoveryLevel: "Recoverable+Purgeable", recoverableDays: 90 },
    });
  });
});
