// azd `postprovision` hook: says where the app is and how to give it its first caller key. It prints
// only; it writes nothing, so provisioning again never touches the keys an operator stored.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

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
  return `
The API is at ${api} (models: ${env.MODEL_HOSTING ?? "?"})
${models}

Callers need a key: until the CALLER_KEYS secret exists, protected routes answer 503 (caller_keys_unavailable). To make the first:

  1. npm run key -- create first-caller

     It prints the key, once (hand it to the caller; nothing keeps a copy), and its CALLER_KEYS entry.

  2. Store the entry in the Key Vault secret CALLER_KEYS refers to (comma-separate several entries):

     az keyvault secret set --vault-name ${vault} --name ${secret} --value '<the CALLER_KEYS entry>'

  3. Have the app read the secret now, not within the next 24 hours:

     az rest --method post --url "https://management.azure.com${site}/config/configreferences/appsettings/refresh?api-version=2022-03-01"

  4. curl ${api}/health/ready
     curl -H "api-key: <the key>" ${api}/info
`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  console.log(postProvisionMessage(process.env));
}
