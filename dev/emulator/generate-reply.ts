import { createHash } from "node:crypto";
import type { EmulatedDeployment } from "./deployments.js";
import { exampleFor } from "./json-example.js";
import { answeredToolCall, lastUserText, type MatchedRule, matchRule, type ScenarioRule } from "./scenarios.js";
import { tokenize } from "./tokens.js";
import type { ChatRequest, ToolDefinition } from "./validate-request.js";
import type { WireError } from "./wire-errors.js";

export interface ReplyToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

export interface Reply {
  /** The answer split into tokens; joined, they are the message content. */
  tokens: string[];
  toolCalls: ReplyToolCall[];
  finishReason: "stop" | "length" | "tool_calls" | "content_filter";
}

/** Decides the model's answer, deterministically: the same request always gets the same reply. */
export function generateReply(request: ChatRequest, deployment: EmulatedDeployment, rules: readonly ScenarioRule[]): Reply | WireError {
  const matched = matchRule(rules, request, deployment.name);
  if (matched?.rule.error) {
    const { status, body, headers } = matched.rule.error;
    return { status, body: body as WireError["body"], headers };
  }
  const scriptedCalls = request.toolChoice !== "none" ? matched?.rule.tool_calls : undefined;
  if (scriptedCalls && scriptedCalls.length > 0) {
    const calls = scriptedCalls.map((call, i) => toolCallFor(request, `${call.name}#${i}`, call.arguments ?? {}, call.name));
    return { tokens: [], toolCalls: calls, finishReason: "tool_calls" };
  }
  const toolCall = chooseToolCall(request, matched);
  if (toolCall) {
    return { tokens: [], toolCalls: [toolCall], finishReason: "tool_calls" };
  }
  const text = shapeForFormat(request, matched?.rule.content !== undefined ? fillTemplate(matched.rule.content, request) : defaultText(request, deployment));
  return limit(cutAtStop(text, request.stop), request, matched?.rule.finish_reason ?? "stop");
}

function chooseToolCall(request: ChatRequest, matched: MatchedRule | undefined): ReplyToolCall | undefined {
  if (request.toolChoice === "none" || request.tools.length === 0) return undefined;
  const scripted = matched?.rule.tool_call;
  if (scripted) {
    const args = scripted.arguments_from_match ? trimmed(matched.groups) : (scripted.arguments ?? {});
    return toolCallFor(request, scripted.name, args);
  }
  if (answeredToolCall(request)) return undefined;
  const forced =
    typeof request.toolChoice === "object"
      ? request.tools.find((t) => t.name === (request.toolChoice as { name: string }).name)
      : request.toolChoice === "required"
        ? request.tools[0]
        : undefined;
  return forced ? toolCallFor(request, forced.name, argumentsFor(forced)) : undefined;
}

/** `key` tells calls of one answer apart when they share a name. */
function toolCallFor(request: ChatRequest, key: string, args: Record<string, unknown>, name = key): ReplyToolCall {
  return { id: toolCallId(request, key), type: "function", function: { name, arguments: JSON.stringify(args) } };
}

/** Nine letters and digits, as Mistral's ids are, derived from the conversation so replays match. */
function toolCallId(request: ChatRequest, name: string): string {
  const digest = createHash("sha256").update(JSON.stringify(request.messages)).update(name).digest("base64");
  return digest
    .replace(/[^A-Za-z0-9]/g, "")
    .slice(0, 9)
    .padEnd(9, "0");
}

function argumentsFor(tool: ToolDefinition): Record<string, unknown> {
  const value = exampleFor(tool.parameters ?? { type: "object" });
  return value && typeof value === "object" ? (value as Record<string, unknown>) : {};
}

function trimmed(groups: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(groups).map(([k, v]) => [k, v.trim()]));
}

function fillTemplate(template: string, request: ChatRequest): string {
  const result = answeredToolCall(request)?.content ?? "";
  return template.replace(/\{\{tool_result(?:\.([\w]+))?\}\}/g, (_, field: string | undefined) => {
    if (!field) return result;
    try {
      const value = (JSON.parse(result) as Record<string, unknown>)[field];
      // A result without the field (a tool error, say) is quoted whole.
      if (value === undefined) return result;
      return typeof value === "string" ? value : JSON.stringify(value);
    } catch {
      return result;
    }
  });
}

function defaultText(request: ChatRequest, deployment: EmulatedDeployment): string {
  const answered = answeredToolCall(request);
  if (answered) return `According to ${answered.name}: ${answered.content}`;
  const said = lastUserText(request).replace(/\s+/g, " ").trim();
  const quoted = said.length > 200 ? `${said.slice(0, 200)}...` : said;
  return `This is an emulated answer from ${deployment.modelName}. You said: "${quoted}"`;
}

function shapeForFormat(request: ChatRequest, text: string): string {
  if (request.responseFormat.type === "json_schema") return JSON.stringify(exampleFor(request.responseFormat.schema, text));
  if (request.responseFormat.type === "json_object" && !isJson(text)) return JSON.stringify({ answer: text });
  return text;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** The text up to the first stop sequence, which the model does not emit. */
function cutAtStop(text: string, stops: readonly string[]): string {
  const cuts = stops.map((stop) => (stop === "" ? -1 : text.indexOf(stop))).filter((index) => index >= 0);
  return cuts.length > 0 ? text.slice(0, Math.min(...cuts)) : text;
}

/** Applies `max_tokens` as the model would: the answer stops at the limit with finish_reason "length". */
function limit(text: string, request: ChatRequest, finishReason: Reply["finishReason"]): Reply {
  const tokens = tokenize(text);
  if (request.maxTokens !== undefined && tokens.length > request.maxTokens) {
    return { tokens: tokens.slice(0, request.maxTokens), toolCalls: [], finishReason: "length" };
  }
  return { tokens, toolCalls: [], finishReason };
}
