import type { Ajv, ValidateFunction } from "ajv";
import { getFlightInfo } from "./get-flight-info.js";
import type { ServerTool } from "./server-tool.js";
import { Slots } from "./slots.js";

const DEFAULT_INSTANCE_CONCURRENCY = 64;

export interface RegisteredTool {
  tool: ServerTool;
  /** The tool's argument schema, compiled on first use. */
  validate: ValidateFunction;
}

/**
 * The tools the server can run, by name. A tool's argument schema is compiled the first time the
 * tool is used (compiling every schema at start-up would slow every cold start).
 */
export class ToolRegistry {
  readonly #tools = new Map<string, ServerTool>();
  readonly #compiled = new Map<string, RegisteredTool>();
  #ajv: Ajv | undefined;
  /** Tool calls running at once on this instance, over every request. */
  readonly slots: Slots;

  constructor(tools: readonly ServerTool[], options: { maxConcurrent?: number } = {}) {
    this.slots = new Slots(options.maxConcurrent ?? DEFAULT_INSTANCE_CONCURRENCY);
    for (const tool of tools) {
      if (this.#tools.has(tool.name)) throw new Error(`Two server tools are named ${tool.name}`);
      this.#tools.set(tool.name, tool);
    }
  }

  /** The built-in tools (the seed's get_flight_info), and the HTTP tools from settings. */
  static builtIn(extra: readonly ServerTool[] = [], options: { maxConcurrent?: number } = {}): ToolRegistry {
    return new ToolRegistry([getFlightInfo, ...extra], options);
  }

  has(name: string): boolean {
    return this.#tools.has(name);
  }

  get(name: string): RegisteredTool | undefined {
    const tool = this.#tools.get(name);
    if (!tool) return undefined;
    let registered = this.#compiled.get(name);
    if (!registered) {
      this.#ajv ??= new (require("ajv") as typeof import("ajv")).Ajv({ allErrors: false, strict: false, addUsedSchema: false });
      registered = { tool, validate: this.#ajv.compile(tool.parameters) };
      this.#compiled.set(name, registered);
    }
    return registered;
  }

  get names(): string[] {
    return [...this.#tools.keys()];
  }
}
