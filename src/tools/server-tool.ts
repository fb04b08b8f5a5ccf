/** A tool the server runs for the model: a name, what it does, the JSON Schema of its arguments. */
export interface ServerTool {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
  /** Runs the tool. `signal` aborts when the tool's time is up or the request ends. */
  execute(args: Record<string, unknown>, signal: AbortSignal): Promise<unknown>;
}

/** A failure whose message is safe to show the model (and the caller): no stack, no secret. */
export class ToolError extends Error {
  override name = "ToolError";
}
