import { describe, expect, it } from "vitest";
import { escapeRowKey, MAX_ROW_KEY_LENGTH } from "../../../src/storage/row-key.js";

/** What Table Storage refuses in a RowKey. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: what Table Storage refuses includes control characters.
const FORBIDDEN = /[/\\#?\u0000-\u001f\u007f-\u009f]/;

describe("escapeRowKey", () => {
  it("leaves ordinary counter keys as they are", () => {
    expect(escapeRowKey("caller:key:dev")).toBe("caller:key:dev");
    expect(escapeRowKey("deployment:mistral-large")).toBe("deployment:mistral-large");
    expect(escapeRowKey("caller:entra:0b9f…é'\"")).toBe("caller:entra:0b9f…é'\"");
  });

  it("escapes / \\ # ? and % as upper-case %XX", () => {
    expect(escapeRowKey("a/b\\c#d?e%f")).toBe("a%2Fb%5Cc%23d%3Fe%25f");
  });

  it("escapes control characters, C0 and C1", () => {
    expect(escapeRowKey("a\u0000b\tc\nd\u001fe\u007ff\u0085g\u009f")).toBe("a%00b%09c%0Ad%1Fe%7Ff%85g%9F");
  });

  it("leaves nothing Table Storage refuses", () => {
    let all = "";
    for (let code = 0; code < 0x100; code++) all += String.fromCharCode(code);
    expect(escapeRowKey(all)).not.toMatch(FORBIDDEN);
  });

  it("is one-to-one: a key that looks escaped does not collide with the key it looks like", () => {
    expect(escapeRowKey("a%2Fb")).not.toBe(escapeRowKey("a/b"));
    expect(escapeRowKey("a%2Fb")).toBe("a%252Fb");
  });

  it("refuses an empty key and one too long once escaped", () => {
    expect(() => escapeRowKey("")).toThrow(RangeError);
    expect(escapeRowKey("k".repeat(MAX_ROW_KEY_LENGTH))).toHaveLength(MAX_ROW_KEY_LENGTH);
    expect(() => escapeRowKey("/".repeat(MAX_ROW_KEY_LENGTH / 3 + 1))).toThrow(RangeError);
    expect(() => escapeRowKey("k".repeat(MAX_ROW_KEY_LENGTH + 1))).toThrow(RangeError);
  });
});
