import type { SettingsReader } from "./settings-reader.js";

/** `MODEL_FALLBACK` = `mistral-large:mistral-small,...`: each alias, and the one that stands in for it. */
export function readFallbacks(settings: SettingsReader, aliases: readonly string[]): Record<string, string> {
  const fallbacks: Record<string, string> = {};
  for (const pair of settings.list("MODEL_FALLBACK", { required: false })) {
    const [from = "", to = "", ...rest] = pair.split(":").map((part) => part.trim());
    if (rest.length > 0 || !aliases.includes(from) || !aliases.includes(to) || from === to) {
      settings.problem(`MODEL_FALLBACK: "${pair}" must be alias:other-alias, both in MODEL_DEPLOYMENTS`);
      continue;
    }
    if (fallbacks[from]) {
      settings.problem(`MODEL_FALLBACK names a fallback for ${from} more than once`);
      continue;
    }
    fallbacks[from] = to;
  }
  return fallbacks;
}
