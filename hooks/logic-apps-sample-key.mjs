// The Logic Apps sample's caller key, made known to the app. Provisioning writes a new key to the secret
// LOGIC_APPS_SAMPLE_KEY_SECRET_NAME (infra/modules/logic-apps-sample.bicep), which the workflow reads at run
// time; the app knows callers only by the hashes in CALLER_KEYS, which Bicep cannot compute. So after each
// provisioning this puts the key's entry, `logic-apps-sample:<sha256>`, in the CALLER_KEYS secret, keeping
// every other entry as it was; with the sample off, it takes the entry out (the workflow, which provisioning
// does not delete, loses its access). Then it asks App Service to read the Key Vault references again, so the
// app knows the key now rather than within 24 hours.
import { createHash } from "node:crypto";
import { DefaultAzureCredential } from "@azure/identity";
import { SecretClient } from "@azure/keyvault-secrets";

export const SAMPLE_KEY_NAME = "logic-apps-sample";

/**
 * The CALLER_KEYS entry, as src/config/caller-key-material.ts makes it. Written again here on purpose: azd runs
 * this hook before anything is built, so it cannot import the app's TypeScript; a test holds the two equal.
 */
export function callerKeyEntry(name, key) {
  return `${name}:${createHash("sha256").update(key, "utf8").digest("hex")}`;
}

/** CALLER_KEYS with the sample's entry replaced by `entry` (or removed when undefined); the others as they were. */
export function withSampleEntry(current, entry) {
  const others = (current ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "" && !item.startsWith(`${SAMPLE_KEY_NAME}:`));
  return [...others, ...(entry ? [entry] : [])].join(",");
}

async function secretValue(client, name) {
  try {
    return (await client.getSecret(name)).value ?? "";
  } catch (error) {
    if (error?.statusCode === 404) return undefined;
    throw error;
  }
}

/**
 * Syncs the sample's entry in CALLER_KEYS from the azd environment. Returns what it did: `skipped` (no vault
 * in the environment), `unchanged`, `added`, `updated` or `removed`, and whether the app was asked to read
 * its references again (`refreshed`: true, false when that failed, undefined when nothing changed).
 */
export async function syncSampleKey(env, { credential = new DefaultAzureCredential(), fetch: send = fetch } = {}) {
  const vaultUrl = env.AZURE_KEY_VAULT_ENDPOINT;
  if (!vaultUrl) return { action: "skipped" };
  const client = new SecretClient(vaultUrl, credential);
  const callerKeysSecret = env.CALLER_KEYS_SECRET_NAME || "caller-keys";
  const sampleSecret = env.LOGIC_APPS_SAMPLE_KEY_SECRET_NAME;
  const key = sampleSecret ? await secretValue(client, sampleSecret) : undefined;
  if (sampleSecret && !key) throw new Error(`the secret ${sampleSecret} holds no key; provision again`);
  const current = await secretValue(client, callerKeysSecret);
  const next = withSampleEntry(current, key ? callerKeyEntry(SAMPLE_KEY_NAME, key) : undefined);
  if (next === (current ?? "")) return { action: "unchanged" };
  const had = (current ?? "").split(",").some((item) => item.trim().startsWith(`${SAMPLE_KEY_NAME}:`));
  await client.setSecret(callerKeysSecret, next, { contentType: "Caller key hashes, name:sha256 comma-separated (CALLER_KEYS)" });
  return { action: !key ? "removed" : had ? "updated" : "added", refreshed: await refreshReferences(env, credential, send) };
}

/** POST .../config/configreferences/appsettings/refresh: App Service's documented way to re-read references now. */
async function refreshReferences(env, credential, send) {
  const { AZURE_SUBSCRIPTION_ID: subscription, AZURE_RESOURCE_GROUP: group, AZURE_FUNCTION_APP_NAME: site } = env;
  if (!subscription || !group || !site) return false;
  const arm = (env.AZURE_RESOURCE_MANAGER_ENDPOINT || "https://management.azure.com").replace(/\/$/, "");
  try {
    const token = await credential.getToken(`${arm}/.default`);
    const path = `/subscriptions/${subscription}/resourceGroups/${encodeURIComponent(group)}/providers/Microsoft.Web/sites/${encodeURIComponent(site)}`;
    const response = await send(`${arm}${path}/config/configreferences/appsettings/refresh?api-version=2022-03-01`, {
      method: "POST",
      headers: { authorization: `Bearer ${token.token}` },
      signal: AbortSignal.timeout(30_000),
    });
    return response.ok;
  } catch {
    return false;
  }
}
