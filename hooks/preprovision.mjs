// azd `preprovision` hook: refuses, before anything is created, the settings the template cannot take;
// then registers the chat page's applications in Entra ID (entra-apps.mjs), whose client ids the Bicep
// reads from the azd environment.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const MODEL_REGIONS = JSON.parse(readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), "..", "infra", "model-regions.json"), "utf8"));

/** The models main.parameters.json deploys for a hosting option, with azd's defaults (kept in step by a test). */
const DEFAULT_MODELS = {
  foundry: [
    ["FOUNDRY_MISTRAL_LARGE_MODEL", "Mistral-Large-3"],
    ["FOUNDRY_MISTRAL_SMALL_MODEL", "mistral-small-2503"],
  ],
  serverless: [
    ["SERVERLESS_MISTRAL_MEDIUM_MODEL", "mistral-medium-2505"],
    ["SERVERLESS_MISTRAL_SMALL_MODEL", "mistral-small-2503"],
  ],
};

/**
 * A model region the chosen models are not offered in, as infra/model-regions.json lists them (a model it
 * does not list is not checked). AZURE_SKIP_REGION_CHECK=true skips this, for a region newer than the list.
 */
export function regionProblems(env, regions = MODEL_REGIONS) {
  if ((env.AZURE_SKIP_REGION_CHECK ?? "").toLowerCase() === "true") return [];
  const hosting = env.MODEL_HOSTING || "foundry";
  const region = (env.AZURE_MODEL_LOCATION || env.AZURE_LOCATION || "").toLowerCase();
  const offered = regions[hosting];
  if (!region || !offered || !DEFAULT_MODELS[hosting]) return [];
  const problems = [];
  for (const [variable, fallback] of DEFAULT_MODELS[hosting]) {
    const model = env[variable] || fallback;
    if (offered.anyRegion.some((name) => name.toLowerCase() === model.toLowerCase())) continue;
    const listed = Object.entries(offered.regions).find(([name]) => name.toLowerCase() === model.toLowerCase());
    if (listed && !listed[1].includes(region)) {
      problems.push(
        `${model} (${variable}) is not offered in ${region} for ${hosting} (as of ${regions.checked}): set AZURE_MODEL_LOCATION to one of ${listed[1].join(", ")}, or AZURE_SKIP_REGION_CHECK=true if it is offered there now`,
      );
    }
  }
  return problems;
}

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
  const problems = [...preProvisionProblems(process.env), ...regionProblems(process.env)];
  if (problems.length > 0) {
    console.error(`Not provisioning:\n${problems.map((problem) => `  - ${problem}`).join("\n")}\nFix them with azd env set, then run azd up again.`);
    process.exit(1);
  }
  const { runEntraAppsHook } = await import("./entra-apps.mjs");
  await runEntraAppsHook(process.env);
}
