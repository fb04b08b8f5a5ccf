/**
 * A quick, deliberately rough token estimate for reserving quota before a model call; the reservation
 * is corrected by `charge` once the model reports its usage. About four characters of ASCII text
 * make a token; other scripts (CJK above all) take one token or more per character, so each
 * non-ASCII code point counts as a whole token. Too high costs a caller some budget for the length
 * of one call; too low lets the deployment overshoot by the difference (see table-quota-store.ts).
 */
export function estimateTextTokens(text: string): number {
  let ascii = 0;
  let other = 0;
  for (const char of text) {
    if (char.charCodeAt(0) < 0x80) ascii++;
    else other++;
  }
  return Math.ceil(ascii / 4) + other;
}

/** What each message adds beyond its text: role and framing tokens of the chat template. */
export const MESSAGE_OVERHEAD_TOKENS = 4;

/**
 * The prompt's estimate: every string in every message (content, content parts, tool-call names
 * and arguments) plus a few tokens per message, and the tool definitions as the JSON the model
 * reads. Shapes are not checked here (requests are validated before this), so it works for the app
 * contract and the drop-in protocol alike. The walk is iterative: a deeply nested body cannot
 * exhaust the stack. Add the answer's `max_tokens` to reserve for the whole call.
 */
export function estimatePromptTokens(messages: readonly unknown[], tools?: readonly unknown[]): number {
  let tokens = 0;
  for (const message of messages) tokens += MESSAGE_OVERHEAD_TOKENS + stringTokens(message);
  if (tools !== undefined && tools.length > 0) tokens += estimateTextTokens(JSON.stringify(tools));
  return tokens;
}

function stringTokens(value: unknown): number {
  let tokens = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next === "string") tokens += estimateTextTokens(next);
    else if (next !== null && typeof next === "object") {
      // A loop, not push(...values): a huge array must not exceed the argument limit.
      for (const item of Array.isArray(next) ? next : Object.values(next)) pending.push(item);
    }
  }
  return tokens;
}
