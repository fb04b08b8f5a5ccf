import { randomBytes } from "node:crypto";

export interface SecretVersion {
  name: string;
  /** 32 hex characters, as Key Vault's. */
  version: string;
  value: string;
  contentType?: string;
  tags?: Record<string, string>;
  /** Epoch seconds. */
  created: number;
}

/** A secret version as Key Vault answers it (SecretBundle). */
export interface SecretBundle {
  value: string;
  id: string;
  contentType?: string;
  tags?: Record<string, string>;
  attributes: { enabled: boolean; created: number; updated: number; recoveryLevel: string; recoverableDays: number };
}

/** Key Vault's rule for secret names. */
export const SECRET_NAME = /^[0-9a-zA-Z-]{1,127}$/;

/**
 * Secrets with their versions, in memory. Setting a secret adds a version, and the unversioned read answers
 * the newest, which is what a rotation relies on. Names are case-insensitive, as in Key Vault.
 */
export class SecretStore {
  readonly #secrets = new Map<string, SecretVersion[]>();

  set(name: string, value: string, extra: { contentType?: string; tags?: Record<string, string> } = {}): SecretVersion {
    if (!SECRET_NAME.test(name)) throw new Error(`invalid secret name ${JSON.stringify(name)}`);
    const versions = this.#secrets.get(name.toLowerCase()) ?? [];
    const entry: SecretVersion = {
      name: versions[0]?.name ?? name,
      version: randomBytes(16).toString("hex"),
      value,
      ...extra,
      created: Math.floor(Date.now() / 1000),
    };
    this.#secrets.set(name.toLowerCase(), [...versions, entry]);
    return entry;
  }

  /** The newest version, or the one named; undefined when there is none. */
  get(name: string, version?: string): SecretVersion | undefined {
    const versions = this.#secrets.get(name.toLowerCase()) ?? [];
    return version ? versions.find((entry) => entry.version === version.toLowerCase()) : versions.at(-1);
  }
}

/** The wire form: `id` is the version's full URL, which SecretClient parses for name, version and vault URL. */
export function toBundle(vaultUrl: string, entry: SecretVersion): SecretBundle {
  return {
    value: entry.value,
    id: `${vaultUrl.replace(/\/$/, "")}/secrets/${entry.name}/${entry.version}`,
    ...(entry.contentType !== undefined ? { contentType: entry.contentType } : {}),
    ...(entry.tags !== undefined ? { tags: entry.tags } : {}),
    attributes: { enabled: true, created: entry.created, updated: entry.created, recoveryLevel: "Recoverable+Purgeable", recoverableDays: 90 },
  };
}
