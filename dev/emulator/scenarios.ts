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
  /** Several calls in one answer (parallel tool calls). */
  tool_calls?: Array<{ name: string; arguments?: Record<string, unknown> }>;
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
  const problems = scenarioProblems(parsed);
  if (problems.length > 0) throw new Error(`${path}: ${problems.join("; ")}`);
  return parsed.rules;
}

const MATCH_FIELDS = new Set(["deployment", "last_user_contains", "last_user_matches", "tool", "after_tool", "response_format"]);

/** Checks a scenario file when it is loaded, so a bad rule fails at start-up, not on some later request. */
export function scenarioProblems(file: unknown): string[] {
  const rules = (file as ScenarioFile | null)?.rules;
  if (!Array.isArray(rules)) return ['expected {"rules": [...]}'];
  const problems: string[] = [];
  rules.forEach((rule, i) => {
    const at = `rules[${i}]`;
    if (!rule || typeof rule.match !== "object" || rule.match === null) return problems.push(`${at}.match must be an object`);
    for (const key of Object.keys(rule.match)) if (!MATCH_FIELDS.has(key)) problems.push(`${at}.match.${key} is not a match field`);
    if (rule.match.last_user_matches !== undefined) {
      try {
        new RegExp(rule.match.last_user_matches, "i");
      } catch {
        problems.push(`${at}.match.last_user_matches is not a valid regular expression`);
      }
    }
    const answers = [rule.content !== undefined, rule.tool_call !== undefined, rule.tool_calls !== undefined, rule.error !== undefined].filter(Boolean).length;
    if (answers !== 1 && !(answers === 0 && rule.finish_reason !== undefined))
      problems.push(`${at} needs exactly one of content, tool_call, tool_calls or error`);
    if (rule.tool_call !== undefined && typeof rule.tool_call.name !== "string") problems.push(`${at}.tool_call.name must be a string`);
    if (rule.error !== undefined && !Number.isInteger(rule.error.status)) problems.push(`${at}.error.status must be an HTTP status`);
    return undefined;
  });
  return problems;
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
    // Only an assistant's list of calls: a caller may send anything in other messages' fields.
    if (message.role !== "assistant" || !Array.isArray(message.tool_calls)) continue;
    const call = message.tool_calls.find((c) => c.id === last.tool_call_id);
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
