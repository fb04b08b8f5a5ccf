/** URLs with a scheme, and bare host names (with a port or path) such as `x.eastus2.models.ai.azure.com/y`. */
const URL_PATTERN = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi;
const HOST_PATTERN = /\b(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63}(?::\d+)?(?:\/[^\s"'<>]*)?/gi;
const MAX_LENGTH = 500;

/**
 * Makes upstream text fit to show a caller: drops URLs and host names (they name our endpoints) and
 * any secret we hold, and caps the length.
 */
export function safeText(text: string, secrets: readonly string[] = []): string {
  let safe = text;
  for (const secret of secrets) {
    if (secret.length >= 4) safe = safe.split(secret).join("[redacted]");
  }
  safe = safe.replace(URL_PATTERN, "[url]").replace(HOST_PATTERN, (host) => (/\.[a-z]{2,63}(?::\d+)?(\/|$)/i.test(host) ? "[host]" : host));
  return safe.length > MAX_LENGTH ? `${safe.slice(0, MAX_LENGTH)}...` : safe;
}
