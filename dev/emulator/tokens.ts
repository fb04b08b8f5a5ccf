/**
 * A deterministic stand-in for a tokenizer: a token is a run of non-space characters with the spaces
 * before it, so the tokens of a text join back to exactly that text.
 */
export function tokenize(text: string): string[] {
  return text.match(/\s*\S+|\s+$/g) ?? [];
}

export function countTokens(text: string): number {
  return tokenize(text).length;
}

/** JSON has few spaces, so its tokens are estimated by length, at about four characters a token. */
export function countJsonTokens(value: unknown): number {
  return Math.ceil(JSON.stringify(value).length / 4);
}

/** Tokens of a message's content, which is a string or an array of typed parts. */
export function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content.map((part) => (part && typeof part === "object" && typeof part.text === "string" ? part.text : "")).join(" ");
  }
  return "";
}

/** Prompt tokens: every message's content and tool calls, plus a few tokens of framing per message. */
export function countPromptTokens(messages: readonly Record<string, unknown>[], extraText = ""): number {
  let total = countTokens(extraText);
  for (const message of messages) {
    total += 3 + countTokens(contentText(message.content));
    if (Array.isArray(message.tool_calls)) total += countJsonTokens(message.tool_calls);
  }
  return total;
}
