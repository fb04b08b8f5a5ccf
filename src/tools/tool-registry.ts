import { Ajv, type ValidateFunction } from "ajv";
import { getFlightInfo } from "./get-flight-info.js";
import type { ServerTool } from "./server-tool.js";

export interface RegisteredTool {
  tool: ServerTool;
  /** The tool's argument schema, compiled once. */
  validate: ValidateFunction;
}

/** The tools the server can run, by name. Argument schemas are compiled when the registry is built. */
export class ToolRegistry {
  readonly #tools = new Map<string, RegisteredTool>();

  constructor(tools: readonly ServerTool[]) {
    const ajv = new Ajv({ allErrors: false, strict: false });
    for (const tool of tools) {
      if (this.#tools.has(tool.name)) throw new Error(`Two server tools are named ${tool.name}`);
      this.#tools.set(tool.name, { tool, validate: ajv.compile(tool.parameters) });
    }
  }

  /** The built-in tools (the seed's get_flight_info); HTTP tools from settings join them. */
  static builtIn(extra: readonly ServerTool[] = []): ToolRegistry {
    return new ToolRegistry([getFlightInfo, ...extra]);
  }

  get(name: string): RegisteredTool | undefined {
    return this.#tools.get(name);
  }

  get names(): string[] {
    return [...this.#tools.keys()];
  }
}
