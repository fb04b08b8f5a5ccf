import { createHash } from "node:crypto";

/** Mistral accepts only tool-call ids of exactly 9 letters and digits. */
const MISTRAL_ID = /^[A-Za-z0-9]{9}$/;
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/**
 * Maps a caller's tool-call ids to ids Mistral accepts, the same way in the assistant message that
 * made a call and the tool message that answers it, and back again for what the caller sees.
 * Ids that already fit are kept; others get a 9-character id derived from them.
 */
export class ToolCallIds {
  readonly #toModel = new Map<string, string>();
  readonly #toCaller = new Map<string, string>();

  forModel(id: string): string {
    const known = this.#toModel.get(id);
    if (known) return known;
    let mapped = MISTRAL_ID.test(id) && !this.#toCaller.has(id) ? id : derive(id, 0);
    for (let attempt = 1; this.#toCaller.has(mapped); attempt++) mapped = derive(id, attempt);
    this.#toModel.set(id, mapped);
    this.#toCaller.set(mapped, id);
    return mapped;
  }

  forCaller(id: string): string {
    return this.#toCaller.get(id) ?? id;
  }
}

function derive(id: string, attempt: number): string {
  const digest = createHash("sha256").update(`${attempt}:${id}`).digest();
  let out = "";
  for (let i = 0; i < 9; i++) out += ALPHABET[(digest[i] as number) % ALPHABET.length];
  return out;
}
