/** URLs with a scheme, and bare host names (with a port or path) such as `x.eastus2.models.ai.azure.com/y`. */
const URL_PATTERN = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi;
const HOST_PATTERN = /\b(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63}(?::\d+)?(?:\/[^\s"'<>]*)?/gi;
/** Addresses name our network as much as host names do: IPv4, bracketed IPv6, and localhost with a port or path. */
const IPV4_PATTERN = /\b(?:\d{1,3}\.){3}\d{1,3}\b(?::\d+)?(?:\/[^\s"'<>]*)?/g;
const IPV6_PATTERN = /\[[0-9a-f.]*:[0-9a-f.]*:[0-9a-f:.]*(?:%[\w.~-]+)?\](?::\d+)?(?:\/[^\s"'<>]*)?/gi;
const LOCALHOST_PATTERN = /\blocalhost(?::\d+(?:\/[^\s"'<>]*)?|\/[^\s"'<>]*)/gi;
const MAX_LENGTH = 500;
/** Shorter "secrets" would redact ordinary words. */
const MIN_SECRET_LENGTH = 4;

/**
 * Makes upstream text fit to show a caller: drops URLs, host names and addresses (they name our
 * endpoints) and any secret we hold, however it was encoded, and caps the length.
 */
export function safeText(text: string, secrets: readonly string[] = []): string {
  let safe = text;
  const kept = secrets.filter((secret) => secret.length >= MIN_SECRET_LENGTH);
  if (kept.length > 0) {
    // Two patterns because base64 is case-sensitive while the plain and percent-encoded forms are not.
    safe = safe
      .replace(new RegExp(kept.map(plainOrPercentEncoded).join("|"), "gi"), "[redacted]")
      .replace(new RegExp(kept.flatMap(base64Cores).join("|"), "g"), "[redacted]");
  }
  safe = safe
    .replace(URL_PATTERN, "[url]")
    .replace(HOST_PATTERN, (host) => (/\.[a-z]{2,63}(?::\d+)?(\/|$)/i.test(host) ? "[host]" : host))
    .replace(IPV4_PATTERN, "[host]")
    .replace(IPV6_PATTERN, "[host]")
    .replace(LOCALHOST_PATTERN, "[host]");
  return safe.length > MAX_LENGTH ? `${safe.slice(0, MAX_LENGTH)}...` : safe;
}

/**
 * The secret with each character either as is or percent-encoded (any hex case, either letter case),
 * so encodeURIComponent, stricter encoders and hand-built query strings are all caught.
 */
function plainOrPercentEncoded(secret: string): string {
  return Array.from(secret, (char) => {
    const forms = new Set([escapeRegExp(char)]);
    for (const variant of [char, char.toLowerCase(), char.toUpperCase()]) forms.add(percentEncoded(variant));
    if (char === " ") forms.add("\\+");
    return `(?:${[...forms].join("|")})`;
  }).join("");
}

/**
 * A secret inside a longer base64 string (an HTTP Basic credential, a token) lines up with the 3-byte
 * groups at one of three offsets. At offset k its bits run from 8k to 8(k + n); a base64 character
 * covers bits 6i to 6i + 6, so characters ceil(8k / 6) up to floor(8(k + n) / 6) depend on the secret
 * alone and appear whatever surrounds it. Those cores are matched, in base64 and base64url.
 */
function base64Cores(secret: string): string[] {
  const bytes = Buffer.from(secret, "utf8");
  return [0, 1, 2].map((k) => {
    const encoded = Buffer.concat([Buffer.alloc(k, "x"), bytes]).toString("base64");
    const core = encoded.slice(Math.ceil((8 * k) / 6), Math.floor((8 * (k + bytes.length)) / 6));
    return Array.from(core, (char) => (char === "+" ? "(?:[+-]|%2[bB])" : char === "/" ? "(?:[/_]|%2[fF])" : char)).join("");
  });
}

function percentEncoded(char: string): string {
  return Array.from(Buffer.from(char, "utf8"), (byte) => `%${byte.toString(16).padStart(2, "0")}`).join("");
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&");
}
