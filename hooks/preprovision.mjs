// azd `preprovision` hook: refuses, before anything is created, the settings the template cannot take.
// It reads the azd environment only and writes nothing.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

/**
 * The problems with the azd environment, one line each; none when provisioning may go ahead.
 * CORS: the app's rule is the only one (the platform's is off), and it takes exact origins: `*` would let
 * any web page call the API with a key it got hold of.
 */
export function preProvisionProblems(env) {
  const problems = [];
  const origins = (env.CORS_ALLOWED_ORIGINS ?? "")
    .split(",")
    .map((origin) => origin.trim())
    .filter((origin) => origin !== "");
  for (const origin of origins) {
    if (origin === "*") {
      problems.push("CORS_ALLOWED_ORIGINS may not be *: list the origins of your web frontends, e.g. https://app.example.com");
      continue;
    }
    let url;
    try {
      url = new URL(origin);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== "https:" && url.protocol !== "http:") || url.origin !== origin.toLowerCase().replace(/\/$/, "")) {
      problems.push(`CORS_ALLOWED_ORIGINS: "${origin}" is not an origin like https://app.example.com (scheme, host and port only)`);
    }
  }
  return problems;
}

if (import.meta.url === pathToFileURL(resolve(process.argv[1] ?? "")).href) {
  const problems = preProvisionProblems(process.env);
  if (problems.length > 0) {
    console.error(`Not provisioning:\n${problems.map((problem) => `  - ${problem}`).join("\n")}\nFix them with azd env set, then run azd up again.`);
    process.exit(1);
  }
}
