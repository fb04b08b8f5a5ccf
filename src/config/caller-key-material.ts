import { createHash, randomBytes } from "node:crypto";

/** Recognisable in logs and secret scanners, and long enough (256 bits) that guessing is hopeless. */
const KEY_PREFIX = "mfk_";

export interface NewCallerKey {
  /** Shown once, to give to the caller; stored nowhere. */
  key: string;
  /** The `CALLER_KEYS` entry: the name and the key's SHA-256, which is all the app keeps. */
  entry: string;
}

export function newCallerKey(name: string): NewCallerKey {
  const key = KEY_PREFIX + randomBytes(32).toString("base64url");
  return { key, entry: callerKeyEntry(name, key) };
}

export function callerKeyEntry(name: string, key: string): string {
  return `${name}:${createHash("sha256").update(key, "utf8").digest("hex")}`;
}
