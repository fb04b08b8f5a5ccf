/**
 * The part of Logic Apps' expression language the sample workflow uses, evaluated as the engine does, so a
 * test can run the workflow's actions against the local stack: `@{...}` inside a string is replaced by the
 * value's text, a string that is one `@...` expression is that value; calls of `parameters`, `body`,
 * `outputs`, `triggerBody`, `workflow` and `coalesce`, with `?['name']`, `?[0]` and `.name` after them. Any
 * other function is an error, so a definition using one fails the test rather than being half-evaluated.
 */
export interface WorkflowRun {
  parameters: Record<string, unknown>;
  trigger: { body: unknown };
  /** Each finished action's outputs. */
  actions: Record<string, { statusCode?: number; headers?: Record<string, string>; body?: unknown }>;
  runName: string;
}

type Value = unknown;

const FUNCTIONS: Record<string, (run: WorkflowRun, args: Value[]) => Value> = {
  parameters: (run, [name]) => {
    if (!(String(name) in run.parameters)) throw new Error(`no workflow parameter ${String(name)}`);
    return run.parameters[String(name)];
  },
  body: (run, [name]) => outputsOf(run, name)?.body,
  outputs: (run, [name]) => outputsOf(run, name),
  triggerBody: (run) => run.trigger.body,
  workflow: (run) => ({ run: { name: run.runName } }),
  coalesce: (_run, args) => args.find((arg) => arg !== null && arg !== undefined) ?? null,
};

function outputsOf(run: WorkflowRun, name: Value) {
  if (!(String(name) in run.actions)) throw new Error(`action ${String(name)} has not run`);
  return run.actions[String(name)];
}

/** Evaluates every string in `template` (an action's inputs, say), leaving the rest as it is. */
export function evaluateInputs<T>(template: T, run: WorkflowRun): T {
  if (typeof template === "string") return evaluateString(template, run) as T;
  if (Array.isArray(template)) return template.map((item) => evaluateInputs(item, run)) as T;
  if (template && typeof template === "object") {
    return Object.fromEntries(Object.entries(template).map(([key, value]) => [key, evaluateInputs(value, run)])) as T;
  }
  return template;
}

function evaluateString(text: string, run: WorkflowRun): Value {
  if (text.startsWith("@") && !text.startsWith("@{") && !text.startsWith("@@")) return new Parser(text.slice(1), run).whole();
  return text.replace(/@\{([^}]*)\}/g, (_, source: string) => {
    const value = new Parser(source, run).whole();
    return value === null || value === undefined ? "" : typeof value === "object" ? JSON.stringify(value) : String(value);
  });
}

class Parser {
  #at = 0;
  constructor(
    private readonly source: string,
    private readonly run: WorkflowRun,
  ) {}

  whole(): Value {
    const value = this.expression();
    this.#space();
    if (this.#at !== this.source.length) throw this.#error("unexpected text");
    return value;
  }

  private expression(): Value {
    this.#space();
    const char = this.source[this.#at];
    if (char === "'") return this.#string();
    if (char && /[0-9-]/.test(char)) return this.#number();
    const name = /^[A-Za-z]\w*/.exec(this.source.slice(this.#at))?.[0];
    if (!name) throw this.#error("expected a function call");
    this.#at += name.length;
    const fn = FUNCTIONS[name];
    if (!fn) throw this.#error(`the sample's expressions do not use ${name}()`);
    this.#expect("(");
    const args: Value[] = [];
    this.#space();
    if (this.source[this.#at] !== ")") {
      do args.push(this.expression());
      while (this.#take(","));
    }
    this.#expect(")");
    return this.#accessors(fn(this.run, args));
  }

  #accessors(value: Value): Value {
    for (;;) {
      const optional = this.#take("?");
      if (this.#take("[")) {
        const key = this.expression();
        this.#expect("]");
        value = this.#member(value, key, optional);
      } else if (!optional && this.#take(".")) {
        const name = /^\w+/.exec(this.source.slice(this.#at))?.[0] ?? "";
        this.#at += name.length;
        value = this.#member(value, name, false);
      } else if (optional) {
        throw this.#error("expected [ after ?");
      } else {
        return value;
      }
    }
  }

  #member(value: Value, key: Value, optional: boolean): Value {
    if (value === null || value === undefined) {
      if (optional) return null;
      throw this.#error(`cannot read ${String(key)} of null`);
    }
    const found = (value as Record<string, unknown>)[String(key)];
    return found === undefined ? null : found;
  }

  #string(): string {
    let out = "";
    this.#at++;
    for (;;) {
      const char = this.source[this.#at++];
      if (char === undefined) throw this.#error("unterminated string");
      if (char === "'") {
        if (this.source[this.#at] !== "'") return out;
        this.#at++;
      }
      out += char;
    }
  }

  #number(): number {
    const text = /^-?\d+(\.\d+)?/.exec(this.source.slice(this.#at))?.[0] ?? "";
    this.#at += text.length;
    return Number(text);
  }

  #space(): void {
    while (this.source[this.#at] === " ") this.#at++;
  }

  #take(token: string): boolean {
    this.#space();
    if (!this.source.startsWith(token, this.#at)) return false;
    this.#at += token.length;
    return true;
  }

  #expect(token: string): void {
    if (!this.#take(token)) throw this.#error(`expected ${token}`);
  }

  #error(message: string): Error {
    return new Error(`${message} at ${this.#at} in ${this.source}`);
  }
}
