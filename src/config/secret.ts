import { inspect } from "node:util";

const REDACTED = "[redacted]";

/**
 * A setting that must never be printed: logging, JSON.stringify and util.inspect all show
 * "[redacted]". The value is only reachable through reveal(), at the one place that sends it.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
