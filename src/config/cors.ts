import type { SettingsReader } from "./settings-reader.js";
import type { CorsConfig } from "./types.js";

/**
 * `CORS_ALLOWED_ORIGINS`: the browser origins allowed to call (comma-separated `https://app.example.com`,
 * or `*`); `CORS_ALLOW_CREDENTIALS`: whether browsers may send cookies (App Service Authentication's
 * session). A wildcard with credentials would let any site act as the signed-in user: refused.
 */
export function readCors(settings: SettingsReader): CorsConfig {
  const entries = settings.list("CORS_ALLOWED_ORIGINS", { required: false });
  const allowCredentials = settings.boolean("CORS_ALLOW_CREDENTIALS", false);
  if (entries.includes("*")) {
    if (entries.length > 1) settings.problem("CORS_ALLOWED_ORIGINS is either * or a list of origins, not both");
    if (allowCredentials) settings.problem("CORS_ALLOWED_ORIGINS=* cannot be combined with CORS_ALLOW_CREDENTIALS=true; list the origins instead");
    return { origins: "*", allowCredentials: false };
  }
  const origins: string[] = [];
  for (const entry of entries) {
    const origin = asOrigin(entry);
    if (origin) origins.push(origin);
    else settings.problem(`CORS_ALLOWED_ORIGINS: "${entry}" is not an origin like https://app.example.com (scheme, host and port only)`);
  }
  return { origins, allowCredentials };
}

function asOrigin(entry: string): string | undefined {
  try {
    const url = new URL(entry);
    const plain = (url.protocol === "https:" || url.protocol === "http:") && url.origin === entry.toLowerCase().replace(/\/$/, "");
    return plain ? url.origin : undefined;
  } catch {
    return undefined;
  }
}
