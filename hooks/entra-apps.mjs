// The app registrations the chat page signs users in with (docs/web.md), made or brought up to date in
// Microsoft Entra ID through Microsoft Graph, as the deploying user:
//
// - the API (`mistral-functions-api-<env>`): the app role `Chat.Use` that lets a user chat, the delegated
//   scope `Chat` the page asks for, `api://<client id>` as its identifier, and the page pre-authorized, so
//   users are not asked to consent; the function app checks tokens for it (ENTRA_API_AUDIENCE);
// - the page (`mistral-functions-web-<env>`): a single-page application whose redirect URI is the Static Web
//   App's address once provisioning has made it, asking for the API's scope;
// - a service principal for each, and the deploying user given `Chat.Use`, so the page works for them at once.
//
// NOTE: Bicep could declare these with the Microsoft Graph extension, which must be fetched from a registry at
// build time; a hook keeps `infra/` buildable offline and runs as the user, whose right to register apps is
// what Graph checks either way. Each object is addressed by a name of its own (`uniqueName`) and written with
// "create if missing", so running the hook again changes nothing that is already right.
import { createHash } from "node:crypto";

export const CHAT_ROLE = "Chat.Use";
export const CHAT_SCOPE = "Chat";
const GRAPH = "https://graph.microsoft.com";

/** The names of the two registrations for an azd environment. */
export function appNames(environmentName) {
  return { api: `mistral-functions-api-${environmentName}`, web: `mistral-functions-web-${environmentName}` };
}

/** A GUID that is the same for the same text: the role's and the scope's ids stay put from run to run. */
export function stableId(text) {
  const hex = createHash("sha256").update(text).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Microsoft Graph v1.0 with a token for it from `credential` (azd's sign-in, in the hooks); `endpoint`
 * is Graph's, or another cloud's (MICROSOFT_GRAPH_ENDPOINT).
 */
export function graphClient({ credential, endpoint = GRAPH, fetch: send = fetch }) {
  const base = endpoint.replace(/\/+$/, "");
  async function call(method, path, body, headers = {}) {
    const token = await credential.getToken(`${base}/.default`);
    const response = await send(`${base}/v1.0${path}`, {
      method,
      headers: { authorization: `Bearer ${token.token}`, ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (response.status === 404 && method === "GET") return undefined;
    if (!response.ok) {
      let message = text.slice(0, 300);
      try {
        message = JSON.parse(text).error?.message ?? message;
      } catch {}
      throw new Error(`Microsoft Graph answered ${method} ${path} with ${response.status}: ${message}`);
    }
    return text ? JSON.parse(text) : undefined;
  }
  return {
    get: (path) => call("GET", path),
    post: (path, body) => call("POST", path, body),
    patch: (path, body, headers) => call("PATCH", path, body, headers),
  };
}

/**
 * Makes both registrations as they should be and answers their client ids and what changed. `webOrigin`
 * (`https://<name>.azurestaticapps.net`) is the page's address, once known; `principalId` the deploying
 * user's object id, given the chat role.
 */
export async function ensureEntraApps(graph, { environmentName, webOrigin, principalId }) {
  const names = appNames(environmentName);
  const roleId = stableId(`${names.api}/appRole/${CHAT_ROLE}`);
  const scopeId = stableId(`${names.api}/scope/${CHAT_SCOPE}`);
  const appRoles = [
    {
      id: roleId,
      value: CHAT_ROLE,
      displayName: "Chat",
      description: "Chat with the models through the API.",
      allowedMemberTypes: ["User", "Application"],
      isEnabled: true,
    },
  ];
  const scope = {
    id: scopeId,
    value: CHAT_SCOPE,
    type: "User",
    isEnabled: true,
    adminConsentDisplayName: "Chat with the models",
    adminConsentDescription: "Lets the page call the chat API as the signed-in user.",
    userConsentDisplayName: "Chat with the models",
    userConsentDescription: "Lets the page call the chat API as you.",
  };
  const apiSettings = (preAuthorizedApplications) => ({ requestedAccessTokenVersion: 2, oauth2PermissionScopes: [scope], preAuthorizedApplications });

  const api = await upsert(graph, names.api, { displayName: names.api, signInAudience: "AzureADMyOrg", appRoles });
  const web = await upsert(graph, names.web, {
    displayName: names.web,
    signInAudience: "AzureADMyOrg",
    spa: { redirectUris: webOrigin ? [`${webOrigin.replace(/\/+$/, "")}/`] : [] },
    requiredResourceAccess: [{ resourceAppId: api.appId, resourceAccess: [{ id: scopeId, type: "Scope" }] }],
  });
  // The scope exists now: the identifier and the page's pre-authorisation can name it.
  await graph.patch(`/applications/${api.id}`, {
    identifierUris: [`api://${api.appId}`],
    api: apiSettings([{ appId: web.appId, delegatedPermissionIds: [scopeId] }]),
  });
  const apiPrincipal = await servicePrincipal(graph, api.appId);
  await servicePrincipal(graph, web.appId);
  let assigned = false;
  if (principalId) {
    const assignments = (await graph.get(`/servicePrincipals/${apiPrincipal.id}/appRoleAssignedTo`))?.value ?? [];
    if (!assignments.some((a) => a.principalId === principalId && a.appRoleId === roleId)) {
      await graph.post(`/servicePrincipals/${apiPrincipal.id}/appRoleAssignedTo`, { principalId, resourceId: apiPrincipal.id, appRoleId: roleId });
      assigned = true;
    }
  }
  return { apiClientId: api.appId, webClientId: web.appId, scope: `api://${api.appId}/${CHAT_SCOPE}`, assigned };
}

/** Creates the application named `uniqueName`, or updates it, and reads it back. */
async function upsert(graph, uniqueName, body) {
  const path = `/applications(uniqueName='${encodeURIComponent(uniqueName)}')`;
  await graph.patch(path, body, { prefer: "create-if-missing" });
  const app = await graph.get(path);
  if (!app?.appId) throw new Error(`Microsoft Graph did not return the application ${uniqueName} it was asked to make`);
  return app;
}

async function servicePrincipal(graph, appId) {
  return (await graph.get(`/servicePrincipals(appId='${appId}')`)) ?? (await graph.post("/servicePrincipals", { appId }));
}

/**
 * The hooks' entry: with ENTRA_APPS=off, or when Graph refuses (a user without the right to register
 * applications), says what to do and leaves sign-in off (the function app then checks no tokens; keys
 * work as before), without failing `azd up`. Answers the azd environment values to set.
 */
export async function entraAppsStep(env, { graph, log = console.log }) {
  if ((env.ENTRA_APPS ?? "on").toLowerCase() === "off") return {};
  try {
    const apps = await ensureEntraApps(graph, {
      environmentName: env.AZURE_ENV_NAME,
      webOrigin: env.WEB_URL || undefined,
      principalId: env.AZURE_PRINCIPAL_ID || undefined,
    });
    if (apps.assigned) log(`Gave you the ${CHAT_ROLE} role of ${appNames(env.AZURE_ENV_NAME).api}: sign in on the page to chat.`);
    return { ENTRA_API_CLIENT_ID: apps.apiClientId, ENTRA_WEB_CLIENT_ID: apps.webClientId };
  } catch (error) {
    log(
      `Could not register the chat page's applications in Microsoft Entra ID (${error instanceof Error ? error.message : String(error)}). ` +
        "The page's sign-in stays off; keys work as before. Ask an administrator for the right to register applications (the Application " +
        "Developer role), or set ENTRA_APPS=off to stop trying, then run azd provision again. docs/web.md says what the hook makes.",
    );
    return {};
  }
}

/**
 * Runs the step as an azd hook: Graph with azd's own sign-in, and what it answers written to the azd
 * environment (`azd env set`) when it differs from what is there.
 */
export async function runEntraAppsHook(env = process.env) {
  if ((env.ENTRA_APPS ?? "on").toLowerCase() === "off") return;
  let AzureDeveloperCliCredential;
  try {
    ({ AzureDeveloperCliCredential } = await import("@azure/identity"));
  } catch {
    console.log("Could not load @azure/identity to register the chat page in Entra ID: run npm install, then azd provision. Sign-in stays off until then.");
    return;
  }
  const graph = graphClient({ credential: new AzureDeveloperCliCredential(), endpoint: env.MICROSOFT_GRAPH_ENDPOINT || GRAPH });
  const values = await entraAppsStep(env, { graph });
  const { spawnSync } = await import("node:child_process");
  for (const [name, value] of Object.entries(values)) {
    if (env[name] === value) continue;
    const result = spawnSync("azd", ["env", "set", name, value], { stdio: "inherit", shell: process.platform === "win32" });
    if (result.status !== 0) console.log(`Could not run azd env set ${name} ${value}; run it yourself, then azd provision.`);
  }
}
