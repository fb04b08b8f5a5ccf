/**
 * Reads raw settings and collects every problem instead of stopping at the first, so start-up can
 * name all of them in one message. It never puts a setting's value into a problem: values may be secrets.
 */
export type Env = Readonly<Record<string, string | undefined>>;

const TABLE_NAME = /^[A-Za-z][A-Za-z0-9]{2,62}$/;
const KEY_VAULT_REFERENCE = /^\s*@Microsoft\.KeyVault\s*\(/i;

export class SettingsReader {
  readonly problems: string[] = [];
  /** Settings that hold a Key Vault reference the platform did not resolve (names only). */
  readonly unresolved: string[] = [];

  constructor(private readonly env: Env) {}

  problem(message: string): undefined {
    this.problems.push(message);
    return undefined;
  }

  /** A non-empty value, or undefined (with a problem recorded when `required`). */
  string(name: string, options: { required: boolean }): string | undefined {
    const raw = this.env[name];
    if (raw === undefined || raw.trim() === "") {
      return options.required ? this.problem(`${name} is required but not set`) : undefined;
    }
    if (KEY_VAULT_REFERENCE.test(raw)) {
      // NOTE: App Service leaves the literal reference in place when it cannot resolve it (identity
      // without access, missing secret). Sending it upstream as a key would only fail later and leak it.
      return this.problem(`${name} is an unresolved Key Vault reference; check that the secret exists and the app's identity may read it`);
    }
    return raw.trim();
  }

  /**
   * A secret setting the app can run without, failing closed: an unresolved Key Vault reference is
   * not a start-up problem but `"unresolved"`, so readiness can name it and requests that need it
   * fail with a 503, while everything else (health, readiness) still answers.
   */
  secret(name: string, options: { required: boolean }): string | "unresolved" | undefined {
    const raw = this.env[name];
    if (raw !== undefined && KEY_VAULT_REFERENCE.test(raw)) {
      this.unresolved.push(name);
      return "unresolved";
    }
    return this.string(name, options);
  }

  /** A required setting that must parse as a URL; the problem names the setting, never the value. */
  url(name: string): URL | undefined {
    const raw = this.string(name, { required: true });
    if (raw === undefined) return undefined;
    try {
      return new URL(raw);
    } catch {
      return this.problem(`${name} is not a valid URL`);
    }
  }

  integer(name: string, fallback: number, range: { min: number; max: number }): number {
    const raw = this.string(name, { required: false });
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < range.min || value > range.max) {
      this.problem(`${name} must be a whole number from ${range.min} to ${range.max}`);
      return fallback;
    }
    return value;
  }

  /** A Table Storage table's name: 3 to 63 letters and digits, starting with a letter. */
  tableName(name: string, fallback: string): string {
    const table = this.string(name, { required: false }) ?? fallback;
    if (!TABLE_NAME.test(table)) this.problem(`${name} must be 3 to 63 letters and digits, starting with a letter`);
    return table;
  }

  /** `true` or `false`, any case (App Service writes its own flags as `True`). */
  boolean(name: string, fallback: boolean): boolean {
    const raw = this.string(name, { required: false });
    if (raw === undefined) return fallback;
    const lower = raw.toLowerCase();
    if (lower !== "true" && lower !== "false") {
      this.problem(`${name} must be true or false`);
      return fallback;
    }
    return lower === "true";
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.string(name, { required: false });
    if (raw === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      this.problem(`${name} must be one of ${allowed.join(", ")}`);
      return fallback;
    }
    return raw as T;
  }

  /** A comma-separated list; empty entries are ignored. */
  list(name: string, options: { required: boolean }): string[] {
    const raw = this.string(name, options);
    if (raw === undefined) return [];
    const items = raw
      .split(",")
      .map((item) => item.trim())
      .filter((item) => item !== "");
    if (options.required && items.length === 0) this.problem(`${name} must list at least one value`);
    return items;
  }
}
