import type { AzureKeyCredential, TokenCredential } from "@azure/core-auth";
import type { SecretClient } from "@azure/keyvault-secrets";
import { CredentialError, describeCredentialFailure } from "./credential-error.js";
import type { ModelAuth } from "./model-auth.js";

/** A vault that keeps refusing or a key that stays wrong must not turn every request into a vault read. */
const MIN_REREAD_INTERVAL_MS = 5_000;
/**
 * Readiness reads the secret again when the last read is older than this, so a vault that stopped
 * granting access shows up there, and a rotated key is picked up before the model refuses the old one.
 */
const CHECK_REREAD_AFTER_MS = 60_000;

interface SecretLocation {
  vaultUrl: string;
  secretName: string;
  secretVersion?: string;
}

/**
 * A model key the app reads from Key Vault itself, with its managed identity: read on first use,
 * kept in memory, and read again when the model refuses it (a rotated key is picked up without a
 * restart). One AzureKeyCredential is updated in place, so the client built with it never changes.
 */
export class KeyVaultKey implements ModelAuth {
  readonly #location: SecretLocation;
  readonly #setting: string;
  readonly #identity: () => TokenCredential;
  #client: SecretClient | undefined;
  #credential: AzureKeyCredential | undefined;
  #reading: Promise<string> | undefined;
  #renewing: Promise<void> | undefined;
  #generation = 0;
  #renewedAt = 0;
  #lastReadAt = 0;
  readonly #seen: string[] = [];

  constructor(location: SecretLocation, setting: string, identity: () => TokenCredential) {
    this.#location = location;
    this.#setting = setting;
    this.#identity = identity;
  }

  async credential(signal?: AbortSignal): Promise<AzureKeyCredential> {
    if (this.#credential) return this.#credential;
    const key = await this.#read(signal);
    if (!this.#credential) {
      const { AzureKeyCredential } = require("@azure/core-auth") as typeof import("@azure/core-auth");
      this.#credential = new AzureKeyCredential(key);
    }
    return this.#credential;
  }

  get generation(): number {
    return this.#generation;
  }

  /**
   * Re-reads the key, at most once per interval and one read at a time. An attempt that began before
   * the key last changed just tries again with the new one, so a burst of 401s after a rotation
   * costs one vault read.
   */
  async renewAfterRefusal(generation: number, signal?: AbortSignal): Promise<boolean> {
    const credential = this.#credential;
    if (!credential) return false;
    if (generation < this.#generation) return true;
    if (this.#renewing) return this.#renewing.then(() => generation < this.#generation);
    if (Date.now() - this.#renewedAt < MIN_REREAD_INTERVAL_MS) return false;
    this.#renewedAt = Date.now();
    this.#renewing = this.#read(signal)
      .then((key) => this.#use(credential, key))
      .finally(() => {
        this.#renewing = undefined;
      });
    await this.#renewing;
    return generation < this.#generation;
  }

  #use(credential: AzureKeyCredential, key: string): void {
    if (key === credential.key) return;
    credential.update(key);
    this.#generation += 1;
  }

  secrets(): readonly string[] {
    return this.#seen;
  }

  async check(signal: AbortSignal): Promise<void> {
    const credential = await this.credential(signal);
    if (Date.now() - this.#lastReadAt < CHECK_REREAD_AFTER_MS) return;
    this.#use(credential, await this.#read(signal));
  }

  /** One read at a time: concurrent requests that need the key share it. */
  #read(signal?: AbortSignal): Promise<string> {
    this.#reading ??= this.#fetch(signal).finally(() => {
      this.#reading = undefined;
    });
    return this.#reading;
  }

  async #fetch(signal?: AbortSignal): Promise<string> {
    this.#lastReadAt = Date.now();
    try {
      const secret = await this.#secretClient().getSecret(this.#location.secretName, {
        ...(this.#location.secretVersion ? { version: this.#location.secretVersion } : {}),
        ...(signal ? { abortSignal: signal } : {}),
      });
      const value = secret.value?.trim();
      if (!value) throw new CredentialError(`${this.#setting}: the secret in Key Vault is empty`);
      if (!this.#seen.includes(value)) this.#seen.push(value);
      return value;
    } catch (error) {
      if (error instanceof CredentialError) throw error;
      throw new CredentialError(`${this.#setting}: ${describeCredentialFailure(error)}`);
    }
  }

  #secretClient(): SecretClient {
    if (!this.#client) {
      const { SecretClient } = require("@azure/keyvault-secrets") as typeof import("@azure/keyvault-secrets");
      // One quick retry: a request is waiting, and readiness reports a vault that stays down.
      this.#client = new SecretClient(this.#location.vaultUrl, this.#identity(), { retryOptions: { maxRetries: 1 } });
    }
    return this.#client;
  }
}
