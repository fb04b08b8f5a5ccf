import { hostAllowed } from "./host-allow-list.js";
import { isPlainLocal } from "./loopback.js";
import { Secret } from "./secret.js";
import type { SettingsReader } from "./settings-reader.js";
import type { HttpToolConfig, HttpToolsConfig } from "./types.js";

const NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/**
 * `HTTP_TOOLS`: a JSON array of `{name, description, parameters, url | url_setting}`. A URL that
 * carries a secret (a Logic Apps trigger's signature) belongs in its own setting, named by
 * `url_setting`, so it can be a Key Vault reference. Every URL is https on an allow-listed host
 * (`HTTP_TOOL_ALLOWED_HOSTS`); plain http to this machine only with `HTTP_TOOLS_ALLOW_LOOPBACK=true`,
 * which is for local development.
 */
export function readHttpTools(settings: SettingsReader): HttpToolsConfig {
  const allowedHosts = settings.list("HTTP_TOOL_ALLOWED_HOSTS", { required: false });
  const allowLoopback = settings.oneOf("HTTP_TOOLS_ALLOW_LOOPBACK", ["true", "false"] as const, "false") === "true";
  const maxResponseBytes = settings.integer("HTTP_TOOL_MAX_RESPONSE_BYTES", 262_144, { min: 1_024, max: 10_485_760 });
  const raw = settings.string("HTTP_TOOLS", { required: false });
  const tools: HttpToolConfig[] = [];
  if (raw !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      settings.problem("HTTP_TOOLS must be a JSON array of tool definitions");
    }
    if (parsed !== undefined && !Array.isArray(parsed)) settings.problem("HTTP_TOOLS must be a JSON array of tool definitions");
    if (Array.isArray(parsed)) {
      parsed.forEach((entry, index) => {
        const tool = readTool(settings, entry, index, allowedHosts, allowLoopback);
        if (tool) tools.push(tool);
      });
    }
  }
  return { tools, allowedHosts, allowLoopback, maxResponseBytes };
}

function readTool(settings: SettingsReader, entry: unknown, index: number, allowedHosts: string[], allowLoopback: boolean): HttpToolConfig | undefined {
  const at = `HTTP_TOOLS[${index}]`;
  const tool = (entry ?? {}) as Record<string, unknown>;
  if (typeof tool.name !== "string" || !NAME.test(tool.name)) return settings.problem(`${at}.name must be 1 to 64 letters, digits, _ or -`);
  if (typeof tool.description !== "string" || tool.description === "") return settings.problem(`${at}.description is required`);
  const parameters = tool.parameters as Record<string, unknown> | undefined;
  if (!parameters || typeof parameters !== "object" || parameters.type !== "object") {
    return settings.problem(`${at}.parameters must be a JSON Schema with "type": "object"`);
  }
  const schemaProblem = compileProblem(parameters);
  if (schemaProblem) return settings.problem(`${at}.parameters is not a usable JSON Schema: ${schemaProblem}`);
  const url =
    typeof tool.url_setting === "string" ? settings.string(tool.url_setting, { required: true }) : typeof tool.url === "string" ? tool.url : undefined;
  if (url === undefined) return typeof tool.url_setting === "string" ? undefined : settings.problem(`${at} needs url or url_setting`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return settings.problem(`${at}: the URL is not valid`);
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, "");
  const plainLocal = allowLoopback && isPlainLocal(parsed);
  if (parsed.protocol !== "https:" && !plainLocal) return settings.problem(`${at}: the URL must use https`);
  if (!hostAllowed(host, allowedHosts)) return settings.problem(`${at}: the host ${host} is not in HTTP_TOOL_ALLOWED_HOSTS`);
  return { name: tool.name, description: tool.description, parameters, url: new Secret(url) };
}

/** Compiles a tool's argument schema once at start-up, so a broken one is a start-up problem, not a 500 later. */
function compileProblem(schema: Record<string, unknown>): string | undefined {
  const { Ajv } = require("ajv") as typeof import("ajv");
  try {
    new Ajv({ strict: false, addUsedSchema: false }).compile(schema);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
