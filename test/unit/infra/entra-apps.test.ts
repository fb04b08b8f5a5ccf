import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { appNames, CHAT_ROLE, ensureEntraApps, entraAppsStep, graphClient, stableId } from "../../../hooks/entra-apps.mjs";
import { FakeGraph } from "../../support/fake-graph.js";

/**
 * The hook that registers the page and the API in Entra ID, against a Graph that answers as Graph does:
 * what it makes, that a second run changes nothing, and that a refusal leaves sign-in off without
 * failing azd up.
 */
let fake: FakeGraph;
let graph: ReturnType<typeof graphClient>;
let endpoint: string;
const tokens: string[] = [];

beforeEach(async () => {
  fake = new FakeGraph();
  endpoint = await fake.listen();
  tokens.length = 0;
  graph = graphClient({
    credential: {
      getToken: async (scope: string) => {
        tokens.push(scope);
        return { token: "token-for-graph" };
      },
    },
    endpoint,
  });
});
afterEach(() => fake.close());

const USER = "6f1c2f4e-0d3b-4d8e-9a8f-3c1b2a4d5e6f";

describe("ensureEntraApps", () => {
  it("registers the API with the chat role and scope, and the page as a single-page application pre-authorised for it", async () => {
    const apps = await ensureEntraApps(graph, { environmentName: "dev", webOrigin: "https://page.azurestaticapps.net", principalId: USER });
    const api = fake.application(appNames("dev").api);
    const web = fake.application(appNames("dev").web);
    expect(apps).toEqual({ apiClientId: api?.appId, webClientId: web?.appId, scope: `api://${api?.appId}/Chat`, assigned: true });
    expect(api).toMatchObject({
      signInAudience: "AzureADMyOrg",
      identifierUris: [`api://${api?.appId}`],
      appRoles: [{ value: CHAT_ROLE, allowedMemberTypes: ["User", "Application"], isEnabled: true }],
      api: {
        requestedAccessTokenVersion: 2,
        oauth2PermissionScopes: [{ value: "Chat", type: "User", isEnabled: true }],
        preAuthorizedApplications: [{ appId: web?.appId, delegatedPermissionIds: [api?.api.oauth2PermissionScopes[0].id] }],
      },
    });
    expect(web).toMatchObject({
      spa: { redirectUris: ["https://page.azurestaticapps.net/"] },
      requiredResourceAccess: [{ resourceAppId: api?.appId, resourceAccess: [{ id: api?.api.oauth2PermissionScopes[0].id, type: "Scope" }] }],
    });
    // Both have service principals, and the deploying user holds the role.
    expect([...fake.servicePrincipals.values()].map((p) => p.appId).sort()).toEqual([api?.appId, web?.appId].sort());
    expect(fake.assignments).toEqual([expect.objectContaining({ principalId: USER, appRoleId: stableId(`${appNames("dev").api}/appRole/${CHAT_ROLE}`) })]);
    // Every call went with a token for Graph itself.
    expect(new Set(tokens)).toEqual(new Set([`${endpoint}/.default`]));
  });

  it("changes nothing that is right on a second run, and only adds the page's address once it is known", async () => {
    const first = await ensureEntraApps(graph, { environmentName: "dev", principalId: USER });
    expect(fake.application(appNames("dev").web)?.spa.redirectUris).toEqual([]);
    const second = await ensureEntraApps(graph, { environmentName: "dev", webOrigin: "https://page.azurestaticapps.net/", principalId: USER });
    expect(second).toEqual({ ...first, assigned: false });
    expect(fake.applications.size).toBe(2);
    expect(fake.servicePrincipals.size).toBe(2);
    expect(fake.assignments).toHaveLength(1);
    expect(fake.application(appNames("dev").web)?.spa.redirectUris).toEqual(["https://page.azurestaticapps.net/"]);
    // Another environment has registrations of its own.
    const other = await ensureEntraApps(graph, { environmentName: "test" });
    expect(other.apiClientId).not.toBe(first.apiClientId);
    expect(fake.applications.size).toBe(4);
  });
});

describe("entraAppsStep", () => {
  it("answers the client ids to keep in the azd environment", async () => {
    const lines: string[] = [];
    const values = await entraAppsStep({ AZURE_ENV_NAME: "dev", AZURE_PRINCIPAL_ID: USER }, { graph, log: (line) => lines.push(line) });
    expect(values).toEqual({
      ENTRA_API_CLIENT_ID: fake.application(appNames("dev").api)?.appId,
      ENTRA_WEB_CLIENT_ID: fake.application(appNames("dev").web)?.appId,
    });
    expect(lines.join("\n")).toMatch(/Gave you the Chat\.Use role/);
  });

  it("leaves sign-in off and says what to do when Graph refuses the user, without failing", async () => {
    fake.refuseWith = 403;
    const lines: string[] = [];
    expect(await entraAppsStep({ AZURE_ENV_NAME: "dev" }, { graph, log: (line) => lines.push(line) })).toEqual({});
    expect(lines.join("\n")).toMatch(/403: Insufficient privileges.*sign-in stays off.*Application Developer.*ENTRA_APPS=off/s);
  });

  it("does nothing with ENTRA_APPS=off", async () => {
    expect(await entraAppsStep({ AZURE_ENV_NAME: "dev", ENTRA_APPS: "off" }, { graph })).toEqual({});
    expect(fake.requests).toEqual([]);
  });
});
