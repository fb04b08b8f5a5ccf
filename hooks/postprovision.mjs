// azd `postprovision` hook: makes the Logic Apps sample's key known to the app (logic-apps-sample-key.mjs:
// its entry in CALLER_KEYS, and no other entry touched, so provisioning again never changes the keys an
// operator stored), then says where the app is and how to give it a caller key.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { runEntraAppsHook } from "./entra-apps.mjs";
import { syncSampleKey } from "./logic-apps-sample-key.mjs";

/** The endpoints azd stored from the MODEL_ENDPOINTS output (a JSON array), or none if unreadable. */
function modelEndpoints(raw) {
  try {
    const parsed = JSON.parse(raw ?? "[]");
    return Array.isArray(parsed) ? parsed.filter((e) => e && typeof e.alias === "string" && typeof e.endpoint === "string") : [];
  } catch {
    return [];
  }
}

/** The message, from the azd environment (the outputs of infra/main.bicep and azd's own values). */
export function postProvisionMessage(env) {
  const api = env.API_BASE_URL ?? "https://<function app>.azurewebsites.net/api";
  const vault = env.AZURE_KEY_VAULT_NAME ?? "<key vault>";
  const secret = env.CALLER_KEYS_SECRET_NAME ?? "caller-keys";
  const site =
    `/subscriptions/${env.AZURE_SUBSCRIPTION_ID ?? "<subscription id>"}/resourceGroups/${env.AZURE_RESOURCE_GROUP ?? "<resource group>"}` +
    `/providers/Microsoft.Web/sites/${env.AZURE_FUNCTION_APP_NAME ?? "<function app>"}`;
  const models = modelEndpoints(env.MODEL_ENDPOINTS)
    .map((e) => `  ${e.alias.padEnd(16)} ${e.endpoint}`)
    .join("\n");
  const page = env.WEB_URL
    ? `The chat page is at ${env.WEB_URL}/ once azd deploys it${env.ENTRA_WEB_CLIENT_ID ? " (sign in with your work account)" : " (sign-in is off: see docs/web.md)"}.`
    : "";
  return `
The API is at ${api} (models: ${env.MODEL_HOSTING ?? "?"})
${models}
${page}

Callers need a key: until the CALLER_KEYS secret exists, protected routes answer 503 (caller_keys_unavailable). To make one:

  1. npm run key -- create first-caller

     It prints the key, once (hand it to the caller; nothing keeps a copy), and its CALLER_KEYS entry.

  2. Add the entry to the Key Vault secret CALLER_KEYS refers to (comma-separated; keep the entries it has):

     current=$(az keyvault secret show --vault-name ${vault} --name ${secret} --query value -o tsv 2>/dev/null)
     az keyvault secret set --vault-name ${vault} --name ${secret} --value "\${current:+$current,}<the CALLER_KEYS entry>" -o none

  3. Have the app read the secret now, not within the next 24 hours:

     az rest --method post --url "https://management.azure.com${site}/config/configreferences/appsettings/refresh?api-version=2022-03-01"

  4. curl ${api}/health/ready
     curl -H "api-key: <the key>" ${api}/info
`;
}

/** What the sync did, in words; a failure does not fail `azd up`: the app works, the sample waits for its key. */
export function sampleKeyMessage(env, outcome) {
  const secret = env.CALLER_KEYS_SECRET_NAME ?? "caller-keys";
  if (outcome instanceof Error)
    return `The Logic Apps sample's key could not be put in ${secret} (${outcome.message}); the sample's runs answer 401 until it is. Run \`azd provision\` again, with Key Vault Secrets Officer on the vault.`;
  switch (outcome.action) {
    case "added":
    case "updated":
      return `The Logic Apps sample (${env.LOGIC_APPS_SAMPLE_WORKFLOW}) has a new caller key, "logic-apps-sample" in ${secret}${outcome.refreshed ? "; the app has read it." : "; the app reads it within 24 hours (step 3 below reads it now)."}`;
    case "removed":
      return `The Logic Apps sample is off: its key "logic-apps-sample" was taken out of ${secret}.`;
    default:
      return "";
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  // The page's address exists now: its registration's redirect URI follows it.
  await runEntraAppsHook(process.env);
  const outcome = await syncSampleKey(process.env).catch((error) => error);
  const line = sampleKeyMessage(process.env, outcome);
  if (line) console.log(`\n${line}`);
  console.log(postProvisionMessage(process.env));
}
