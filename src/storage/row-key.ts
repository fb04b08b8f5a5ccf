/**
 * Table Storage refuses `/`, `\`, `#`, `?` and control characters (U+0000–U+001F, U+007F–U+009F)
 * in a RowKey. Those, and `%` itself, become `%XX` (upper-case hex), so the mapping is one-to-one:
 * two different counter keys never share a row.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters Table Storage refuses in a key.
const NEEDS_ESCAPE = /[%/\\#?\u0000-\u001f\u007f-\u009f]/g;

/**
 * The service allows 1 KiB per key; half that in characters fits however it counts (UTF-8 or
 * UTF-16) and is far more than a counter key (`caller:entra:<object id>`) needs.
 */
export const MAX_ROW_KEY_LENGTH = 512;

/** The RowKey of a counter key; an empty or over-long key is a RangeError (a programming error). */
export function escapeRowKey(key: string): string {
  if (key.length === 0) throw new RangeError("A quota counter key must not be empty.");
  const escaped = key.replace(NEEDS_ESCAPE, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);
  if (escaped.length > MAX_ROW_KEY_LENGTH) {
    throw new RangeError(`A quota counter key must be at most ${MAX_ROW_KEY_LENGTH} characters once escaped.`);
  }
  return escaped;
}
