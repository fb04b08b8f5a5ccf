import { describe, expect, it } from "vitest";
import { safeText } from "../../../src/lib/safe-text.js";

const secret = "Sk-9f/x+Q_7z~k=Ab!c";
const base64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
const base64url = (text: string) => Buffer.from(text, "utf8").toString("base64url");

describe("safeText", () => {
  it.each([
    "max_tokens must be at most 4096",
    "Rate limit exceeded",
    "temperature 1.5 is above the maximum of 1.0",
    "Input validation error: messages[0].content must not be empty",
    "The model answered at 12:30, try again in 2.5 seconds",
    "connection to localhost refused",
  ])("leaves ordinary text alone: %s", (text) => {
    expect(safeText(text)).toBe(text);
    expect(safeText(text, [secret, "abc123secret"])).toBe(text);
  });

  it.each([
    ["dial tcp localhost:8080: refused", "dial tcp [host]: refused"],
    ["see LOCALHOST/admin", "see [host]"],
    ["upstream 127.0.0.1:5000 closed", "upstream [host] closed"],
    ["upstream 10.0.0.4 closed", "upstream [host] closed"],
    ["from 169.254.169.254/metadata/identity", "from [host]"],
    ["dial [::1]:8080 failed", "dial [host] failed"],
    ["dial [fe80::1%eth0]:443 failed", "dial [host] failed"],
    ["dial [2001:db8::a:b]:443 failed", "dial [host] failed"],
  ])("drops the host and port in %s", (text, expected) => {
    expect(safeText(text)).toBe(expected);
  });

  it.each([
    ["as is", secret],
    ["in upper case", secret.toUpperCase()],
    ["in lower case", secret.toLowerCase()],
    ["percent-encoded", encodeURIComponent(secret)],
    ["percent-encoded in lower-case hex", encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase())],
    ["percent-encoded character by character", Array.from(Buffer.from(secret), (byte) => `%${byte.toString(16)}`).join("")],
    ["in base64", base64(secret)],
    ["in base64url", base64url(secret)],
    ["in an HTTP Basic credential", `Basic ${base64(`user:${secret}`)}`],
    ["in base64 at every byte offset", [1, 2, 3, 4, 5, 6].map((n) => base64(`${"u".repeat(n)}${secret}tail`)).join(" ")],
    ["in base64url at every byte offset", [1, 2, 3].map((n) => base64url(`${"u".repeat(n)}${secret}tail`)).join(" ")],
  ])("redacts a secret %s", (_, encoded) => {
    const out = safeText(`auth failed for ${encoded} on this request`, [secret]);
    expect(out).toContain("[redacted]");
    expect(out).not.toContain(encoded);
    expect(out.toLowerCase()).not.toContain(secret.toLowerCase());
    // No fragment of the secret's encodings survives: a Basic credential decodes to nothing useful.
    for (const token of out.split(/\s+/)) expect(Buffer.from(token, "base64").toString("latin1")).not.toContain(secret.slice(4, 12));
  });

  it("redacts a plain secret inside a URL-encoded query and an HTTP Basic header", () => {
    const key = "abcd1234efgh5678";
    const out = safeText(`rejected key=${encodeURIComponent(key.toUpperCase())} and Authorization: Basic ${base64(`api:${key}`)}`, [key]);
    expect(out).not.toMatch(/abcd1234|ABCD1234|efgh5678/i);
    expect(out).not.toContain(base64(`api:${key}`));
    expect(out.startsWith("rejected key=[redacted] and Authorization: Basic ")).toBe(true);
  });

  it("ignores secrets shorter than four characters", () => {
    expect(safeText("the key abc is short", ["abc"])).toBe("the key abc is short");
    expect(safeText("the key abc is short", ["", "ab"])).toBe("the key abc is short");
  });

  it("redacts before capping the length, and keeps the 500-character cap", () => {
    const out = safeText(`${"x".repeat(495)} ${secret}`, [secret]);
    expect(out).toHaveLength(503);
    expect(out).not.toContain(secret.slice(0, 4));
  });
});
