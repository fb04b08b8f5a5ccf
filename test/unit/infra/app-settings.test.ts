import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import type { Node } from "web-tree-sitter";
import { ConfigError, deploymentSettingPrefix, loadConfig } from "../../../src/config/index.js";
import { REPO_ROOT, valueAt } from "./support/bicep.js";
import { azdParameters, type Deployment, deploy } from "./support/deployment.js";
import { evaluate, isObject, show, Unknown, type Value } from "./support/evaluate.js";

/**
 * The app-setting contract: what infra/ sets is what src/config/ reads. "What the app reads" is not a
 * list kept by hand: loadConfig runs on the settings the Bicep makes and every name it looks at is recorded.
 */

/** Read by the Functions host, the telemetry SDK or the C library from the environment rather than by loadConfig. */
const PLATFORM_SETTINGS = [
  "MALLOC_ARENA_MAX",
  "AzureWebJobsStorage__accountName",
  "AzureWebJobsStorage__credential",
  "AzureWebJobsStorage__clientId",
  "APPLICATIONINSIGHTS_CONNECTION_STRING",
  "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
  "TELEMETRY_CAPTURE_CONTENT",
];

/**
 * Never set by the template: App Service sets WEBSITE_AUTH_ENABLED itself; HTTP_TOOLS_ALLOW_LOOPBACK is for
 * local development; Flex Consumption refuses or ignores the rest (the runtime is in functionAppConfig,
 * storage is by identity, packages deploy to a blob container).
 */
const NEVER_SET = [
  "WEBSITE_AUTH_ENABLED",
  "HTTP_TOOLS_ALLOW_LOOPBACK",
  "AzureWebJobsStorage",
  "FUNCTIONS_WORKER_RUNTIME",
  "FUNCTIONS_EXTENSION_VERSION",
  "WEBSITE_NODE_DEFAULT_VERSION",
  "WEBSITE_RUN_FROM_PACKAGE",
  "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
  "WEBSITE_CONTENTSHARE",
  "SCM_DO_BUILD_DURING_DEPLOYMENT",
  "ENABLE_ORYX_BUILD",
];

/** What Azure fills in at deployment time, as plausible values, by the expression that yields it. */
function standIn(expression: string): string {
  if (/vaultUri/.test(expression)) return "https://kv-test.vault.azure.net/";
  if (/clientId/.test(expression)) return "0000c1d0-0000-4000-8000-000000000001";
  // A made-up connection string, built so that it never reads as a real one.
  if (/ConnectionString/.test(expression))
    return ["InstrumentationKey", "=", "0".repeat(8), "-0000-0000-0000-", "0".repeat(12), ";IngestionEndpoint=https://x.example/"].join("");
  if (/inferenceEndpoint/.test(expression)) return "https://mistral-large-abc.eastus2.models.ai.azure.com";
  if (/defaultHostname/.test(expression)) return "calm-sea-0123abcd.6.azurestaticapps.net";
  throw new Error(`no stand-in for ${expression}: add one to app-settings.test.ts`);
}

function concrete(value: Value): string {
  if (value instanceof Unknown) return standIn(value.text);
  if (typeof value !== "string") throw new Error(`an app setting that is not a string: ${show(value)}`);
  return value.replace(/⟨([^⟩]*)⟩/g, (_, expression: string) => standIn(expression));
}

/** The app settings of a deployment, as the function app gets them. */
function appSettingsOf(deployment: Deployment): Record<string, Value> {
  const config = deployment.resources.find((r) => r.decl.type === "Microsoft.Web/sites/config" && r.name === "appsettings");
  if (!config) throw new Error("no appsettings resource");
  const properties = valueAt(config.decl.body, "properties");
  if (!properties) throw new Error("the appsettings resource has no properties");
  const settings = evaluate(properties, config.scope);
  if (!isObject(settings)) throw new Error("the app settings are not an object known before deployment");
  return settings;
}

/** Runs loadConfig on the settings and records every name it reads, and what it refuses. */
function readByApp(settings: Record<string, Value>): { read: Set<string>; env: Record<string, string>; problems: readonly string[] } {
  const env = Object.fromEntries(Object.entries(settings).map(([name, value]) => [name, concrete(value)]));
  const read = new Set<string>();
  const recording = new Proxy(env, {
    get(target, name) {
      if (typeof name === "string") read.add(name);
      return typeof name === "string" ? target[name] : undefined;
    },
  });
  try {
    loadConfig(recording);
  } catch (error) {
    if (error instanceof ConfigError) return { read, env, problems: error.problems };
    throw error;
  }
  return { read, env, problems: [] };
}

/** Whether the Settings page (docs/settings.md) names a setting, by its name or its MODEL_<ALIAS>_ form. */
function documented(name: string, settingsPage: string, aliases: readonly string[]): boolean {
  const generic = aliases.reduce((n, alias) => n.replace(deploymentSettingPrefix(alias), "MODEL_<ALIAS>_"), name);
  const storageSuffix = /^AzureWebJobsStorage(__\w+)$/.exec(name)?.[1];
  return [name, generic, ...(storageSuffix ? [storageSuffix] : [])].some((n) => settingsPage.includes(`\`${n}\``));
}

const SETTINGS_PAGE = readFileSync(resolve(REPO_ROOT, "docs/settings.md"), "utf8");

describe.each(["foundry", "serverless"])("app settings with modelHosting=%s", (hosting) => {
  const load = async () => {
    const parameters: Record<string, Value> = { ...azdParameters(), modelHosting: hosting };
    const deployment = await deploy(parameters);
    const aliases = (parameters[hosting === "foundry" ? "foundryModels" : "serverlessModels"] as { alias: string }[]).map((m) => m.alias);
    const settings = appSettingsOf(deployment);
    return { deployment, aliases, settings, ...readByApp(settings) };
  };

  it("are accepted by loadConfig, which finds every deployment with its auth mode", async () => {
    const { aliases, env, problems } = await load();
    expect(problems, "what the app refuses in the settings the Bicep makes").toEqual([]);
    const config = loadConfig(env);
    expect(config.deployments.map((d) => d.alias)).toEqual(aliases);
    for (const deployment of config.deployments) {
      expect(deployment.endpoint).toMatch(/^https:\/\//);
      expect(deployment.credential.kind).toBe(hosting === "foundry" ? "entra" : "keyvault");
    }
    expect(config.identityClientId).toBe(standIn("clientId"));
    expect(config.quotas.enabled).toBe(true);
    // CALLER_KEYS is a Key Vault reference the platform resolves; unresolved here, so the app fails closed.
    expect(config.unresolvedSettings).toEqual(["CALLER_KEYS"]);
  });

  it("set every setting the app reads, or docs/settings.md documents it as optional", async () => {
    const { read, settings, aliases } = await load();
    const missing = [...read].filter((name) => !(name in settings) && !documented(name, SETTINGS_PAGE, aliases));
    expect(missing, "read by src/config but neither set by infra/ nor documented in docs/settings.md").toEqual([]);
  });

  it("set nothing the app, the Functions host or the telemetry SDK does not read (a typo would be here)", async () => {
    const { read, settings } = await load();
    const unread = Object.keys(settings).filter((name) => !read.has(name) && !PLATFORM_SETTINGS.includes(name));
    expect(unread).toEqual([]);
  });

  it("set storage by identity and telemetry with Entra ID, for the user-assigned identity", async () => {
    const { settings, env } = await load();
    for (const name of PLATFORM_SETTINGS) expect(Object.keys(settings)).toContain(name);
    expect(env.AzureWebJobsStorage__credential).toBe("managedidentity");
    expect(env.AzureWebJobsStorage__clientId).toBe(env.AZURE_CLIENT_ID);
    expect(env.AzureWebJobsStorage__accountName).toMatch(/^[a-z0-9]{3,24}$/);
    expect(env.APPLICATIONINSIGHTS_AUTHENTICATION_STRING).toBe(`Authorization=AAD;ClientId=${env.AZURE_CLIENT_ID}`);
    expect(env.TELEMETRY_CAPTURE_CONTENT).toBe("false");
    expect(env.MALLOC_ARENA_MAX).toBe("2");
  });

  it("never set what the platform owns, what Flex Consumption refuses, or a model key in clear", async () => {
    const { settings } = await load();
    expect(Object.keys(settings).filter((name) => NEVER_SET.includes(name))).toEqual([]);
    expect(Object.keys(settings).filter((name) => /^MODEL_\w+_KEY$/.test(name))).toEqual([]);
  });

  it("name the job queue and its poison queue, the job, idempotency and quota tables and the job container, all made in the app's storage account", async () => {
    const { deployment, env } = await load();
    expect(env.JOB_QUEUE).toBe("chat-jobs");
    expect(env.JOB_TABLE).toBe("chatjobs");
    expect(env.JOB_CONTAINER).toBe("chat-jobs");
    expect(env.IDEMPOTENCY_TABLE).toBe("idempotency");
    expect(env.QUOTA_TABLE).toBe("quotas");
    const QUEUES = "Microsoft.Storage/storageAccounts/queueServices/queues";
    const appStorage = deployment.main.module("storage");
    const made = (type: string) => deployment.resources.filter((r) => r.context === appStorage && r.decl.type === type);
    const account = made("Microsoft.Storage/storageAccounts");
    expect(account.map((r) => r.name)).toEqual([env.AzureWebJobsStorage__accountName]);
    // The Functions host moves a message that keeps failing to `<queue>-poison`.
    expect(made(QUEUES).map((r) => r.name)).toEqual([env.JOB_QUEUE, `${env.JOB_QUEUE}-poison`]);
    expect(made("Microsoft.Storage/storageAccounts/tableServices/tables").map((r) => r.name)).toEqual([env.QUOTA_TABLE, env.IDEMPOTENCY_TABLE, env.JOB_TABLE]);
    const containers = made("Microsoft.Storage/storageAccounts/blobServices/containers");
    expect(containers.map((r) => r.name)).toEqual(["app-package", env.JOB_CONTAINER]);
    for (const container of containers) {
      expect(evaluate(valueAt(container.decl.body, "properties.publicAccess") as Node, container.scope), container.label).toBe("None");
    }
    // The model hub's own storage gets no queue: only the app's jobs use one.
    const queuesElsewhere = deployment.resources.filter((r) => r.context !== appStorage && r.decl.type === QUEUES);
    expect(queuesElsewhere.map((r) => r.label)).toEqual([]);
  });

  it("leave a run's time limit to host.json: no AzureFunctionsJobHost__* setting overrides its functionTimeout", async () => {
    const { settings } = await load();
    expect(Object.keys(settings).filter((name) => /^AzureFunctionsJobHost__/i.test(name))).toEqual([]);
  });

  it("make CALLER_KEYS a Key Vault reference to a secret in the app's vault", async () => {
    const { settings } = await load();
    expect(settings.CALLER_KEYS).toBe("@Microsoft.KeyVault(SecretUri=⟨vault.properties.vaultUri⟩secrets/caller-keys)");
  });

  it("name the deployments' model, endpoint and credentials as the hosting option needs", async () => {
    const { aliases, env, deployment } = await load();
    for (const alias of aliases) {
      const prefix = deploymentSettingPrefix(alias);
      if (hosting === "foundry") {
        expect(env[`${prefix}AUTH`]).toBe("entra");
        expect(env[`${prefix}SCOPE`]).toBe("https://cognitiveservices.azure.com/.default");
        // Each through the API Microsoft documents for it: the v1 API for a model sold by Azure, the Model
        // Inference API (`/models`, at its GA version) for a partner model.
        const api = (azdParameters().foundryModels as { alias: string; api?: string }[]).find((m) => m.alias === alias)?.api ?? "model-inference";
        expect(env[`${prefix}API`]).toBe(api);
        expect(env[`${prefix}ENDPOINT`]).toMatch(
          api === "openai-v1"
            ? /^https:\/\/aif-[a-z0-9]+\.services\.ai\.azure\.com\/openai\/v1$/
            : /^https:\/\/aif-[a-z0-9]+\.services\.ai\.azure\.com\/models$/,
        );
        if (api === "model-inference") expect(env[`${prefix}API_VERSION`]).toBe("2025-04-01");
        // On a Foundry endpoint `model` picks the deployment, which is named after the alias.
        expect(env[`${prefix}MODEL`]).toBe(alias);
        // Azure's documented limits for the deployment (not its capacity, which is 1 for a partner model).
        const model = (azdParameters().foundryModels as { alias: string; tokensPerMinute?: number }[]).find((m) => m.alias === alias);
        expect(env[`${prefix}TOKENS_PER_MINUTE`]).toBe(String(model?.tokensPerMinute ?? 200_000));
        expect(env[`${prefix}REQUESTS_PER_MINUTE`]).toBe("1000");
      } else {
        // A serverless endpoint has the Model Inference API only.
        expect(env[`${prefix}API`]).toBe("model-inference");
        expect(env[`${prefix}AUTH`]).toBe("keyvault");
        expect(env[`${prefix}KEY_SECRET_URI`]).toBe(`https://kv-test.vault.azure.net/secrets/${alias}-endpoint-key`);
        const secret = deployment.resources.find((r) => r.decl.type === "Microsoft.KeyVault/vaults/secrets" && r.name === `${alias}-endpoint-key`);
        expect(secret, `a Key Vault secret for ${alias}'s key`).toBeDefined();
      }
    }
  });
});

describe("app settings from parameters", () => {
  async function settingsWith(overrides: Record<string, Value>) {
    const deployment = await deploy({ ...azdParameters(), ...overrides });
    const site = deployment.resources.find((r) => r.decl.type === "Microsoft.Web/sites");
    if (!site) throw new Error("no site");
    return { settings: appSettingsOf(deployment), site, deployment };
  }

  it("check the chat page's users' tokens only once its API is registered: this tenant, that audience", async () => {
    const without = await settingsWith({});
    expect(without.settings.ENTRA_TENANT_ID).toBeUndefined();
    expect(without.settings.ENTRA_API_AUDIENCE).toBeUndefined();
    const { settings } = await settingsWith({ entraApiClientId: "5e0f1c2d-0000-4000-8000-00000000a11d" });
    expect(settings.ENTRA_API_AUDIENCE).toBe("5e0f1c2d-0000-4000-8000-00000000a11d");
    expect(settings.ENTRA_TENANT_ID).toMatch(/^\S+$/);
  });

  it("give the app's CORS the origins, and leave the platform's off (in Azure its answers would replace the app's)", async () => {
    const { settings, site } = await settingsWith({ corsAllowedOrigins: " https://a.example.com, https://b.example.com ,", corsAllowCredentials: "true" });
    // The chat page's origin first, then the operator's.
    expect(settings.CORS_ALLOWED_ORIGINS).toMatch(/^https:\/\/⟨[^⟩]*defaultHostname⟩,https:\/\/a\.example\.com,https:\/\/b\.example\.com$/);
    expect(settings.CORS_ALLOW_CREDENTIALS).toBe("true");
    expect(valueAt(site.decl.body, "properties.siteConfig.cors")).toBeUndefined();
  });

  it("allow only the chat page's origin by default", async () => {
    const { settings } = await settingsWith({});
    expect(settings.CORS_ALLOWED_ORIGINS).toMatch(/^https:\/\/⟨[^⟩]*defaultHostname⟩$/);
    expect(settings.CORS_ALLOW_CREDENTIALS).toBe("false");
  });

  it("turn basic (password) publishing off for FTP and for the SCM site", async () => {
    const { deployment } = await settingsWith({});
    const policies = deployment.resources.filter((r) => r.decl.type === "Microsoft.Web/sites/basicPublishingCredentialsPolicies");
    expect(policies.map((policy) => [policy.name, evaluate(valueAt(policy.decl.body, "properties.allow") as Node, policy.scope)]).sort()).toEqual([
      ["ftp", false],
      ["scm", false],
    ]);
  });

  it("take extra settings, but not over the ones the template manages, nor ones Flex Consumption refuses", async () => {
    const { settings, deployment } = await settingsWith({
      extraAppSettings: {
        MODEL_FALLBACK: "mistral-large:mistral-small",
        MODEL_TIMEOUT_MS: "60000",
        AZURE_CLIENT_ID: "someone-else",
        MODEL_MISTRAL_LARGE_KEY: "a-key-in-plain-text",
        MODEL_MISTRAL_SMALL_ENDPOINT: "https://elsewhere.example.com",
        FUNCTIONS_WORKER_RUNTIME: "node",
        functions_extension_version: "~3",
        WEBSITE_RUN_FROM_PACKAGE: "1",
        WEBSITE_AUTH_ENABLED: "true",
        AzureWebJobsStorage: "DefaultEndpointsProtocol=https;AccountName=x;AccountKey=y",
        MODEL_MISTRAL_LARGE_REQUESTS_PER_MINUTE: "120",
        QUOTAS: "off",
      },
    });
    expect(settings.MODEL_FALLBACK).toBe("mistral-large:mistral-small");
    expect(settings.MODEL_TIMEOUT_MS).toBe("60000");
    expect(settings.AZURE_CLIENT_ID).toBeInstanceOf(Unknown);
    // A deployment's budget is the operator's to set; its endpoint and credential are the template's.
    expect(settings.MODEL_MISTRAL_LARGE_REQUESTS_PER_MINUTE).toBe("120");
    for (const refused of [
      "MODEL_MISTRAL_LARGE_KEY",
      "FUNCTIONS_WORKER_RUNTIME",
      "functions_extension_version",
      "WEBSITE_RUN_FROM_PACKAGE",
      "WEBSITE_AUTH_ENABLED",
      "AzureWebJobsStorage",
    ]) {
      expect(settings, refused).not.toHaveProperty(refused);
    }
    expect(settings.MODEL_MISTRAL_SMALL_ENDPOINT).not.toBe("https://elsewhere.example.com");
    expect(settings.QUOTAS).toBe("on");
    // Everything not taken is named in an output azd shows, the managed ones it replaced included.
    expect([...(deployment.main.output("REFUSED_EXTRA_APP_SETTINGS") as string[])].sort()).toEqual(
      [
        "AZURE_CLIENT_ID",
        "AzureWebJobsStorage",
        "FUNCTIONS_WORKER_RUNTIME",
        "MODEL_MISTRAL_LARGE_KEY",
        "MODEL_MISTRAL_SMALL_ENDPOINT",
        "QUOTAS",
        "WEBSITE_AUTH_ENABLED",
        "WEBSITE_RUN_FROM_PACKAGE",
        "functions_extension_version",
      ].sort(),
    );
  });

  it("deploy a partner model (mistral-small-2503) at capacity 1, which is all Azure accepts for it, and Mistral-Large-3 at 100", async () => {
    const deployment = await deploy(azdParameters());
    const capacities = deployment.resources
      .filter((r) => r.decl.type === "Microsoft.CognitiveServices/accounts/deployments")
      .map((r) => [r.name, evaluate(valueAt(r.decl.body, "sku.capacity") as Node, r.scope)]);
    expect(capacities).toEqual([
      ["mistral-large", 100],
      ["mistral-small", 1],
    ]);
  });

  it("follow the model ids of the azd environment", async () => {
    const parameters = azdParameters({
      AZURE_ENV_NAME: "dev",
      AZURE_LOCATION: "swedencentral",
      FOUNDRY_MISTRAL_LARGE_MODEL: "Mistral-Large-4",
      MODEL_HOSTING: "foundry",
    });
    const deployment = await deploy(parameters);
    const large = deployment.resources.find((r) => r.decl.type === "Microsoft.CognitiveServices/accounts/deployments" && r.name === "mistral-large");
    if (!large) throw new Error("no mistral-large deployment");
    expect(evaluate(valueAt(large.decl.body, "properties.model") as Node, large.scope)).toEqual({
      format: "Mistral AI",
      name: "Mistral-Large-4",
      version: "1",
    });
  });
});
