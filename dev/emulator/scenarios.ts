import { readFileSync } from "node:fs";
import seedScenarios from "./scenarios/seed.json";
import type { ChatRequest } from "./validate-request.js";

/**
 * A scripted reply: the first rule whose `match` holds decides the answer. Rules from a scenario file
 * (EMULATOR_SCENARIOS) come before the built-in ones, which script the seed document's examples.
 */
export interface ScenarioRule {
  name?: string;
  match: {
    deployment?: string;
    /** Case-insensitive substring of the last user message. */
    last_user_contains?: string;
    /** Regular expression over the last user message; named groups can become tool arguments. */
    last_user_matches?: string;
    /** The request offers this tool (and tool_choice is not "none"). */
    tool?: string;
    /** The last message is the result of a call to this tool. */
    after_tool?: string;
    response_format?: "text" | "json_object" | "json_schema";
  };
  /** Reply text; `{{tool_result}}` and `{{tool_result.field}}` insert the last tool message's content. */
  content?: string;
  tool_call?: { name: string; arguments?: Record<string, unknown>; arguments_from_match?: boolean };
  finish_reason?: "stop" | "length" | "content_filter";
  error?: { status: number; body: unknown; headers?: Record<string, string> };
}

export interface ScenarioFile {
  rules: ScenarioRule[];
}

export interface MatchedRule {
  rule: ScenarioRule;
  groups: Record<string, string>;
}

export function loadScenarios(extraFile?: string): ScenarioRule[] {
  const builtIn = (seedScenarios as unknown as ScenarioFile).rules;
  return extraFile ? [...readScenarioFile(extraFile), ...builtIn] : builtIn;
}

export function readScenarioFile(path: string): ScenarioRule[] {
  const parsed = JSON.parse(readFileSync(path, "utf8")) as ScenarioFile;
  if (!Array.isArray(parsed.rules)) throw new Error(`${path}: expected {"rules": [...]}`);
  return parsed.rules;
}

export function lastUserText(request: ChatRequest): string {
  for (let i = request.messages.length - 1; i >= 0; i--) {
    const message = request.messages[i];
    if (message?.role === "user") return textOf(message.content);
  }
  return "";
}

export function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((part) => (typeof part?.text === "string" ? part.text : "")).join(" ");
  return content === undefined || content === null ? "" : JSON.stringify(content);
}

/** The tool call that the last (tool) message answers, if the conversation ends with a tool result. */
export function answeredToolCall(request: ChatRequest): { name: string; content: string } | undefined {
  const last = request.messages.at(-1);
  if (last?.role !== "tool") return undefined;
  for (const message of request.messages) {
    const call = message.tool_calls?.find((c) => c.id === last.tool_call_id);
    if (call) return { name: call.function.name, content: textOf(last.content) };
  }
  return undefined;
}

export function matchRule(rules: readonly ScenarioRule[], request: ChatRequest, deployment: string): MatchedRule | undefined {
  const userText = lastUserText(request);
  const answered = answeredToolCall(request);
  const toolsOffered = request.toolChoice === "none" ? [] : request.tools.map((t) => t.name);
  for (const rule of rules) {
    const m = rule.match;
    if (m.deployment !== undefined && m.deployment !== deployment) continue;
    if (m.response_format !== undefined && m.response_format !== request.responseFormat.type) continue;
    if (m.tool !== undefined && (!toolsOffered.includes(m.tool) || answered)) continue;
    if (m.after_tool !== undefined && answered?.name !== m.after_tool) continue;
    if (m.last_user_contains !== undefined && !userText.toLowerCase().includes(m.last_user_contains.toLowerCase())) continue;
    let groups: Record<string, string> = {};
    if (m.last_user_matches !== undefined) {
      const found = new RegExp(m.last_user_matches, "i").exec(userText);
      if (!found) continue;
      groups = { ...found.groups };
    }
    return { rule, groups };
  }
  return undefined;
}
