const URL_PATTERN = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi;
const MAX_LENGTH = 500;

/**
 * Makes upstream text fit to show a caller: drops URLs (they name our endpoints) and any secret we
 * hold, and caps the length.
 */
export function safeText(text: string, secrets: readonly string[] = []): string {
  let safe = text.replace(URL_PATTERN, "[url]");
  for (const secret of secrets) {
    if (secret.length >= 4) safe = safe.split(secret).join("[redacted]");
  }
  return safe.length > MAX_LENGTH ? `${safe.slice(0, MAX_LENGTH)}...` : safe;
}
