import type { SettingsReader } from "./settings-reader.js";
import type { CorsConfig } from "./types.js";

/**
 * `CORS_ALLOWED_ORIGINS`: the browser origins allowed to call (comma-separated `https://app.example.com`);
 * `CORS_ALLOW_CREDENTIALS`: whether browsers may send cookies (App Service Authentication's session).
 * `*` is refused: in Azure this rule is the only one (the platform's CORS is off), and it names who may call.
 */
export function readCors(settings: SettingsReader): CorsConfig {
  const entries = settings.list("CORS_ALLOWED_ORIGINS", { required: false });
  const allowCredentials = settings.boolean("CORS_ALLOW_CREDENTIALS", false);
  if (entries.includes("*")) {
    // Any web page could then call the API with a key it got hold of, or as a signed-in user.
    settings.problem("CORS_ALLOWED_ORIGINS may not be *: list the origins of your web frontends, e.g. https://app.example.com");
    return { origins: [], allowCredentials: false };
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
