import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../../src/config/index.js";

const KEY = "0123456789abcdef0123456789abcdef";
const DEV_KEY_SHA256 = "7e9f8fd111802be56c379d597842e29b2cebd35ff2133d431a49fa556a18704e";

/** A made-up Application Insights connection string: the zero instrumentation key, a made-up region. */
const FAKE_CONNECTION_STRING = ["InstrumentationKey", "=", "0".repeat(8), "-0000-0000-0000-", "0".repeat(12), ";IngestionEndpoint=https://x.example/"].join("");

const validEnv = (): Record<string, string> => ({
  MODEL_DEPLOYMENTS: "mistral-large, mistral-small",
  MODEL_MISTRAL_LARGE_ENDPOINT: "https://large.eastus2.models.ai.azure.com/",
  MODEL_MISTRAL_LARGE_MODEL: "Mistral-Large-2411",
  MODEL_MISTRAL_LARGE_KEY: KEY,
  MODEL_MISTRAL_SMALL_ENDPOINT: "http://localhost:7072/mistral-small",
  MODEL_MISTRAL_SMALL_MODEL: "mistral-small-2503",
  MODEL_MISTRAL_SMALL_KEY: "emulator-key",
  MODEL_MISTRAL_SMALL_API_VERSION: "2024-05-01-preview",
  CALLER_KEYS: `dev:${DEV_KEY_SHA256}`,
  AzureWebJobsStorage: "UseDevelopmentStorage=true",
});

function problemsOf(env: Record<string, string | undefined>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("reads deployments in order, the first being the default, with defaults filled in", () => {
    const config = loadConfig(validEnv());
    expect(config.deployments.map((d) => d.alias)).toEqual(["mistral-large", "mistral-small"]);
    const [large, small] = config.deployments;
    expect(large?.endpoint).toBe("https://large.eastus2.models.ai.azure.com");
    expect(large?.model).toBe("Mistral-Large-2411");
    // The Model Inference API at its GA version, unless a deployment names another.
    expect(large?.api).toBe("model-inference");
    expect(large?.apiVersion).toBe("2025-04-01");
    expect(large?.credential.kind === "key" && large.credential.key.reveal()).toBe(KEY);
    expect(small?.apiVersion).toBe("2024-05-01-preview");
    expect(config.modelTimeoutMs).toBe(120_000);
    // The connections to each model endpoint: within an instance's SNAT ports, idle ones closed after 10 s.
    expect(config.upstreamPool).toEqual({ connectionsPerEndpoint: 128, idleMs: 10_000 });
    expect(loadConfig({ ...validEnv(), MODEL_MAX_CONNECTIONS: "16", MODEL_CONNECTION_IDLE_MS: "2000" }).upstreamPool).toEqual({
      connectionsPerEndpoint: 16,
      idleMs: 2_000,
    });
    expect(problemsOf({ ...validEnv(), MODEL_MAX_CONNECTIONS: "0" })[0]).toMatch(/^MODEL_MAX_CONNECTIONS/);
    expect(config.callerKeys).toEqual([{ name: "dev", sha256: Buffer.from(DEV_KEY_SHA256, "hex") }]);
  });

  it("reads the model API of each deployment: the OpenAI v1 API needs its /openai/v1 endpoint", () => {
    const env = {
      ...validEnv(),
      MODEL_MISTRAL_LARGE_API: "openai-v1",
      MODEL_MISTRAL_LARGE_ENDPOINT: "https://res.services.ai.azure.com/openai/v1",
      MODEL_MISTRAL_LARGE_MODEL: "mistral-large",
    };
    const [large, small] = loadConfig(env).deployments;
    expect(large).toMatchObject({ api: "openai-v1", endpoint: "https://res.services.ai.azure.com/openai/v1", model: "mistral-large" });
    expect(small?.api).toBe("model-inference");
    expect(problemsOf({ ...env, MODEL_MISTRAL_LARGE_ENDPOINT: "https://res.services.ai.azure.com/models" })).toEqual([
      "MODEL_MISTRAL_LARGE_ENDPOINT must end in /openai/v1 with MODEL_MISTRAL_LARGE_API=openai-v1 (https://<resource>.services.ai.azure.com/openai/v1)",
    ]);
    expect(problemsOf({ ...env, MODEL_MISTRAL_LARGE_API: "openai" })[0]).toMatch(/^MODEL_MISTRAL_LARGE_API must be one of model-inference, openai-v1/);
  });

  it("returns a frozen object", () => {
    const config = loadConfig(validEnv());
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.deployments)).toBe(true);
    expect(Object.isFrozen(config.deployments[0])).toBe(true);
    expect(() => {
      (config as { modelTimeoutMs: number }).modelTimeoutMs = 1;
    }).toThrow(TypeError);
  });

  it("never shows a key when the config is printed or serialised", () => {
    const config = loadConfig(validEnv());
    expect(JSON.stringify(config)).not.toContain(KEY);
    expect(inspect(config, { depth: 10 })).not.toContain(KEY);
    const credential = config.deployments[0]?.credential;
    expect(credential?.kind === "key" && String(credential.key)).toBe("[redacted]");
  });

  it("names every problem at once, in one message", () => {
    const env = validEnv();
    delete env.MODEL_MISTRAL_LARGE_ENDPOINT;
    env.MODEL_MISTRAL_SMALL_ENDPOINT = "http://small.example.com";
    env.MODEL_MISTRAL_SMALL_API_VERSION = "latest";
    env.MODEL_TIMEOUT_MS = "999999";
    delete env.AzureWebJobsStorage;
    let error: ConfigError | undefined;
    try {
      loadConfig(env);
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error?.problems).toEqual([
      "MODEL_MISTRAL_LARGE_ENDPOINT is required but not set",
      "MODEL_MISTRAL_SMALL_ENDPOINT must use https (plain http is allowed for localhost only)",
      "MODEL_MISTRAL_SMALL_API_VERSION must look like 2025-04-01 or 2024-05-01-preview",
      "MODEL_TIMEOUT_MS must be a whole number from 1000 to 220000",
      "AzureWebJobsStorage is required but not set (or AzureWebJobsStorage__accountName, for a connection by identity)",
    ]);
    expect(error?.message).toMatch(/^Invalid configuration \(5 problems\):\n {2}- MODEL_MISTRAL_LARGE_ENDPOINT/);
  });

  it("fails closed on a Key Vault reference the platform did not resolve, without echoing it", () => {
    const env = validEnv();
    env.MODEL_MISTRAL_LARGE_KEY = "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/large-key/)";
    env.CALLER_KEYS = "@Microsoft.KeyVault(VaultName=kv;SecretName=caller-keys)";
    const config = loadConfig(env);
    expect(config.deployments[0]?.credential).toEqual({ kind: "unavailable", setting: "MODEL_MISTRAL_LARGE_KEY" });
    expect(config.callerKeys).toEqual([]);
    expect(config.unresolvedSettings).toEqual(["MODEL_MISTRAL_LARGE_KEY", "CALLER_KEYS"]);
    expect(JSON.stringify(config)).not.toContain("kv.vault.azure.net");
    // Other settings are not secrets the app can run without: a reference there stops start-up.
    expect(problemsOf({ ...validEnv(), MODEL_MISTRAL_LARGE_MODEL: "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/m/)" })).toEqual([
      "MODEL_MISTRAL_LARGE_MODEL is an unresolved Key Vault reference; check that the secret exists and the app's identity may read it",
    ]);
  });

  it("reads Key Vault and Entra ID credentials per deployment", () => {
    const config = loadConfig({
      ...validEnv(),
      MODEL_MISTRAL_LARGE_AUTH: "keyvault",
      MODEL_MISTRAL_LARGE_KEY: "",
      MODEL_MISTRAL_LARGE_KEY_SECRET_URI: "https://kv-app.vault.azure.net/secrets/mistral-large-key",
      MODEL_MISTRAL_SMALL_AUTH: "entra",
      AZURE_CLIENT_ID: "00000000-0000-0000-0000-00000000000a",
    });
    expect(config.deployments[0]?.credential).toEqual({ kind: "keyvault", vaultUrl: "https://kv-app.vault.azure.net", secretName: "mistral-large-key" });
    expect(config.deployments[1]?.credential).toEqual({ kind: "entra", scope: "https://cognitiveservices.azure.com/.default" });
    expect(config.identityClientId).toBe("00000000-0000-0000-0000-00000000000a");
    const versioned = loadConfig({
      ...validEnv(),
      MODEL_MISTRAL_LARGE_AUTH: "keyvault",
      MODEL_MISTRAL_LARGE_KEY_SECRET_URI: "https://kv-app.vault.azure.net/secrets/k/0123456789abcdef0123456789abcdef",
    });
    expect(versioned.deployments[0]?.credential).toMatchObject({ secretName: "k", secretVersion: "0123456789abcdef0123456789abcdef" });
    expect(problemsOf({ ...validEnv(), MODEL_MISTRAL_LARGE_AUTH: "keyvault", MODEL_MISTRAL_LARGE_KEY_SECRET_URI: "http://kv/secrets/k" })).toEqual([
      "MODEL_MISTRAL_LARGE_KEY_SECRET_URI must look like https://<vault>.vault.azure.net/secrets/<name>[/<version>]",
    ]);
    expect(problemsOf({ ...validEnv(), MODEL_MISTRAL_LARGE_AUTH: "keyvault" })).toEqual(["MODEL_MISTRAL_LARGE_KEY_SECRET_URI is required but not set"]);
    expect(problemsOf({ ...validEnv(), MODEL_MISTRAL_SMALL_AUTH: "entra", MODEL_MISTRAL_SMALL_SCOPE: "https://x" })).toEqual([
      "MODEL_MISTRAL_SMALL_SCOPE must be an https resource ending in /.default",
    ]);
  });

  it("trusts platform authentication only when App Service says it is on", () => {
    expect(loadConfig(validEnv()).platformAuth).toBe(false);
    expect(loadConfig({ ...validEnv(), WEBSITE_AUTH_ENABLED: "True" }).platformAuth).toBe(true);
    expect(problemsOf({ ...validEnv(), WEBSITE_AUTH_ENABLED: "yes" })).toEqual(["WEBSITE_AUTH_ENABLED must be true or false"]);
  });

  it("reads quotas: defaults, per key, per deployment", () => {
    const config = loadConfig({
      ...validEnv(),
      QUOTA_CALLER_TOKENS_PER_MINUTE: "5000",
      CALLER_QUOTAS: "dev:10/2000",
      MODEL_MISTRAL_SMALL_TOKENS_PER_MINUTE: "50000",
    });
    expect(config.quotas).toEqual({
      enabled: true,
      table: "quotas",
      caller: { requestsPerMinute: 500, tokensPerMinute: 5000 },
      perKey: { dev: { requestsPerMinute: 10, tokensPerMinute: 2000 } },
      deployments: {
        "mistral-large": { requestsPerMinute: 1000, tokensPerMinute: 200_000 },
        "mistral-small": { requestsPerMinute: 1000, tokensPerMinute: 50_000 },
      },
      answerReserveTokens: 500,
      leasePercent: 5,
    });
    expect(loadConfig({ ...validEnv(), QUOTA_ANSWER_RESERVE_TOKENS: "4096" }).quotas.answerReserveTokens).toBe(4096);
    expect(loadConfig({ ...validEnv(), QUOTAS: "off" }).quotas.enabled).toBe(false);
    expect(problemsOf({ ...validEnv(), CALLER_QUOTAS: "ghost:1/1,dev:1" })).toEqual([
      'CALLER_QUOTAS names "ghost", which is not a key in CALLER_KEYS',
      "CALLER_QUOTAS: each entry must be keyname:requests/tokens (per minute), e.g. ci:60/20000",
    ]);
    expect(problemsOf({ ...validEnv(), QUOTA_TABLE: "no-dashes" })).toEqual(["QUOTA_TABLE must be 3 to 63 letters and digits, starting with a letter"]);
  });

  it("reads the fan-out limits of server tools, the breaker's caller rule and the public host", () => {
    const defaults = loadConfig(validEnv());
    expect(defaults.tools).toMatchObject({ maxCallsPerTurn: 8, maxCallsPerRequest: 32, maxConcurrent: 4, maxConcurrentPerInstance: 64 });
    expect(defaults.breaker.minCallers).toBe(2);
    expect(defaults.publicHost).toEqual({ host: "localhost:7071", scheme: "http", basePath: "/api" });
    const set = loadConfig({ ...validEnv(), TOOL_MAX_CALLS_PER_TURN: "2", BREAKER_MIN_CALLERS: "1", WEBSITE_HOSTNAME: "chat.azurewebsites.net" });
    expect(set.tools.maxCallsPerTurn).toBe(2);
    expect(set.breaker.minCallers).toBe(1);
    expect(set.publicHost).toEqual({ host: "chat.azurewebsites.net", scheme: "https", basePath: "/api" });
    expect(problemsOf({ ...validEnv(), WEBSITE_HOSTNAME: "evil.example/x?" })).toEqual(["WEBSITE_HOSTNAME must be a host name, with a port or without"]);
    // Behind a gateway or a custom domain: what the routes are reached as, whatever App Service says.
    const gateway = loadConfig({ ...validEnv(), WEBSITE_HOSTNAME: "chat.azurewebsites.net", PUBLIC_BASE_URL: "https://api.contoso.com/ai/mistral/" });
    expect(gateway.publicHost).toEqual({ host: "api.contoso.com", scheme: "https", basePath: "/ai/mistral" });
    expect(problemsOf({ ...validEnv(), PUBLIC_BASE_URL: "http://api.contoso.com/ai" })).toEqual(["PUBLIC_BASE_URL must use https (http only for localhost)"]);
    expect(problemsOf({ ...validEnv(), PUBLIC_BASE_URL: "https://api.contoso.com/ai?x=1" })).toHaveLength(1);
    expect(problemsOf({ ...validEnv(), TOOL_MAX_CONCURRENCY: "0" })).toEqual(["TOOL_MAX_CONCURRENCY must be a whole number from 1 to 64"]);
  });

  it("reads the request limits: a long document by default, the message limit never above the body's", () => {
    expect(loadConfig(validEnv()).chat).toEqual({ maxBodyBytes: 1_048_576, maxMessageBytes: 1_048_576 });
    expect(loadConfig({ ...validEnv(), CHAT_MAX_BODY_BYTES: "262144", CHAT_MAX_MESSAGE_BYTES: "65536" }).chat).toEqual({
      maxBodyBytes: 262_144,
      maxMessageBytes: 65_536,
    });
    expect(loadConfig({ ...validEnv(), CHAT_MAX_BODY_BYTES: "262144" }).chat.maxMessageBytes).toBe(262_144);
    expect(problemsOf({ ...validEnv(), CHAT_MAX_BODY_BYTES: "262144", CHAT_MAX_MESSAGE_BYTES: "524288" })).toEqual([
      "CHAT_MAX_MESSAGE_BYTES must not be larger than CHAT_MAX_BODY_BYTES",
    ]);
    expect(problemsOf({ ...validEnv(), CHAT_MAX_BODY_BYTES: "10" })).toEqual(["CHAT_MAX_BODY_BYTES must be a whole number from 65536 to 4194304"]);
  });

  it("reads the jobs' settings: defaults, and names it refuses", () => {
    expect(loadConfig(validEnv()).jobs).toEqual({
      queue: "chat-jobs",
      table: "chatjobs",
      container: "chat-jobs",
      retryAfterSeconds: 5,
      retentionMs: 24 * 3_600_000,
      maxAttempts: 3,
      timeoutMs: 600_000,
      leaseMs: 30_000,
      sweepSchedule: "0 */5 * * * *",
    });
    const own = loadConfig({ ...validEnv(), JOB_QUEUE: "jobs-a1", JOB_RETRY_AFTER_SECONDS: "2", JOB_MAX_ATTEMPTS: "1", JOB_RETENTION_HOURS: "1" }).jobs;
    expect(own).toMatchObject({ queue: "jobs-a1", retryAfterSeconds: 2, maxAttempts: 1, retentionMs: 3_600_000 });
    expect(problemsOf({ ...validEnv(), JOB_QUEUE: "Chat_Jobs", JOB_CONTAINER: "a--b", JOB_TIMEOUT_MS: "1800000", JOB_LEASE_MS: "100" })).toEqual([
      "JOB_QUEUE must be 3 to 56 lowercase letters, digits and single hyphens",
      "JOB_CONTAINER must be 3 to 63 lowercase letters, digits and single hyphens",
      "JOB_TIMEOUT_MS must be a whole number from 1000 to 1500000",
      "JOB_LEASE_MS must be a whole number from 10000 to 600000",
    ]);
    expect(problemsOf({ ...validEnv(), JOB_SWEEP_SCHEDULE: "*/5 * * * *" })).toEqual([
      "JOB_SWEEP_SCHEDULE must be an NCRONTAB expression of six fields, seconds first (e.g. 0 */5 * * * *)",
    ]);
    // The poison queue's name must still be a queue's.
    expect(problemsOf({ ...validEnv(), JOB_QUEUE: "q".repeat(57) })).toHaveLength(1);
  });

  it("requires MODEL_DEPLOYMENTS with at least one valid, unique alias", () => {
    expect(problemsOf({ ...validEnv(), MODEL_DEPLOYMENTS: undefined })).toContain("MODEL_DEPLOYMENTS is required but not set");
    expect(problemsOf({ ...validEnv(), MODEL_DEPLOYMENTS: " , " })).toContain("MODEL_DEPLOYMENTS must list at least one value");
    expect(problemsOf({ ...validEnv(), MODEL_DEPLOYMENTS: "Mistral_Large" })[0]).toMatch(/"Mistral_Large" is not a valid alias/);
    expect(problemsOf({ ...validEnv(), MODEL_DEPLOYMENTS: "mistral-large,mistral-large" })).toEqual(['MODEL_DEPLOYMENTS lists "mistral-large" more than once']);
  });

  it("requires each deployment's model name and key", () => {
    const env = validEnv();
    delete env.MODEL_MISTRAL_SMALL_MODEL;
    env.MODEL_MISTRAL_SMALL_KEY = "   ";
    expect(problemsOf(env)).toEqual(["MODEL_MISTRAL_SMALL_MODEL is required but not set", "MODEL_MISTRAL_SMALL_KEY is required but not set"]);
  });

  it("rejects endpoints that are not plain base URLs", () => {
    expect(problemsOf({ ...validEnv(), MODEL_MISTRAL_LARGE_ENDPOINT: "not a url" })).toEqual(["MODEL_MISTRAL_LARGE_ENDPOINT is not a valid URL"]);
    expect(problemsOf({ ...validEnv(), MODEL_MISTRAL_LARGE_ENDPOINT: "https://x.azure.com/?api-key=abc" })).toEqual([
      "MODEL_MISTRAL_LARGE_ENDPOINT must be a plain base URL, without credentials, query or fragment",
    ]);
  });

  it("refuses a storage setting that is not a connection string", () => {
    expect(problemsOf({ ...validEnv(), AzureWebJobsStorage: "garbage" })).toEqual([
      "AzureWebJobsStorage must be UseDevelopmentStorage=true or a storage connection string (AccountName with AccountKey or SharedAccessSignature)",
    ]);
    expect(() =>
      loadConfig({ ...validEnv(), AzureWebJobsStorage: "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=b;EndpointSuffix=core.windows.net" }),
    ).not.toThrow();
  });

  it("reaches storage by managed identity with the Functions host's identity-based settings", () => {
    const env: Record<string, string | undefined> = { ...validEnv(), AzureWebJobsStorage: undefined };
    const byAccount = loadConfig({
      ...env,
      AzureWebJobsStorage__accountName: "stapp01",
      AzureWebJobsStorage__credential: "managedidentity",
      AzureWebJobsStorage__clientId: "cid",
    });
    expect(byAccount.storage).toEqual({
      kind: "identity",
      tableEndpoint: "https://stapp01.table.core.windows.net",
      queueEndpoint: "https://stapp01.queue.core.windows.net",
      blobEndpoint: "https://stapp01.blob.core.windows.net",
      clientId: "cid",
    });
    const byUri = loadConfig({ ...env, AzureWebJobsStorage__tableServiceUri: "https://127.0.0.1:10012/devstoreaccount1/" });
    expect(byUri.storage).toEqual({ kind: "identity", tableEndpoint: "https://127.0.0.1:10012/devstoreaccount1" });
    const byUris = loadConfig({
      ...env,
      AzureWebJobsStorage__tableServiceUri: "https://stapp02.table.core.windows.net",
      AzureWebJobsStorage__blobServiceUri: "https://127.0.0.1:10010/devstoreaccount1",
    });
    expect(byUris.storage).toEqual({
      kind: "identity",
      tableEndpoint: "https://stapp02.table.core.windows.net",
      queueEndpoint: "https://stapp02.queue.core.windows.net",
      blobEndpoint: "https://127.0.0.1:10010/devstoreaccount1",
    });
    expect(problemsOf({ ...env, AzureWebJobsStorage__accountName: "stapp01", AzureWebJobsStorage__queueServiceUri: "http://plain" })).toEqual([
      "AzureWebJobsStorage__queueServiceUri must be an https URL",
    ]);
    expect(problemsOf(env)).toEqual(["AzureWebJobsStorage is required but not set (or AzureWebJobsStorage__accountName, for a connection by identity)"]);
    expect(problemsOf({ ...env, AzureWebJobsStorage__accountName: "Not_Valid" })).toEqual([
      "AzureWebJobsStorage__accountName must be a storage account name (3 to 24 lowercase letters and digits)",
    ]);
    expect(problemsOf({ ...env, AzureWebJobsStorage__accountName: "stapp01", AzureWebJobsStorage__credential: "connectionstring" })).toEqual([
      "AzureWebJobsStorage__credential must be managedidentity",
    ]);
  });

  it("reads telemetry: off without a connection string, Entra ingestion, content capture and sampling", () => {
    expect(loadConfig(validEnv()).telemetry).toEqual({ captureContent: false, samplingRatio: 1 });
    const on = loadConfig({
      ...validEnv(),
      APPLICATIONINSIGHTS_CONNECTION_STRING: FAKE_CONNECTION_STRING,
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: "Authorization=AAD;ClientId=7c1e2a3b-0000-4000-8000-0000000000c1",
      TELEMETRY_CAPTURE_CONTENT: "true",
      TELEMETRY_SAMPLING_PERCENT: "25",
    }).telemetry;
    expect(on).toMatchObject({ entra: { clientId: "7c1e2a3b-0000-4000-8000-0000000000c1" }, captureContent: true, samplingRatio: 0.25 });
    expect(String(on.connectionString)).toBe("[redacted]");
    expect(problemsOf({ ...validEnv(), APPLICATIONINSIGHTS_CONNECTION_STRING: "nonsense" })).toEqual([
      "APPLICATIONINSIGHTS_CONNECTION_STRING must be an Application Insights connection string (InstrumentationKey=...;IngestionEndpoint=...)",
    ]);
    expect(problemsOf({ ...validEnv(), APPLICATIONINSIGHTS_AUTHENTICATION_STRING: "Authorization=Key" })).toEqual([
      "APPLICATIONINSIGHTS_AUTHENTICATION_STRING must be Authorization=AAD or Authorization=AAD;ClientId=<client id>",
    ]);
  });

  it("reads fallbacks between configured deployments only", () => {
    expect(loadConfig({ ...validEnv(), MODEL_FALLBACK: "mistral-large:mistral-small" }).fallbacks).toEqual({ "mistral-large": "mistral-small" });
    expect(problemsOf({ ...validEnv(), MODEL_FALLBACK: "mistral-large:gpt-4,mistral-small:mistral-small" })).toEqual([
      'MODEL_FALLBACK: "mistral-large:gpt-4" must be alias:other-alias, both in MODEL_DEPLOYMENTS',
      'MODEL_FALLBACK: "mistral-small:mistral-small" must be alias:other-alias, both in MODEL_DEPLOYMENTS',
    ]);
  });

  it("accepts only the credential kinds it implements", () => {
    expect(problemsOf({ ...validEnv(), MODEL_MISTRAL_LARGE_AUTH: "password" })).toEqual(["MODEL_MISTRAL_LARGE_AUTH must be one of key, keyvault, entra"]);
  });

  it("checks caller key entries without printing them", () => {
    const problems = problemsOf({ ...validEnv(), CALLER_KEYS: `dev:not-a-hash,ok:${DEV_KEY_SHA256},ok:${DEV_KEY_SHA256}` });
    expect(problems).toEqual([
      'CALLER_KEYS: each entry must be name:sha256-hex (name of letters, digits, . _ -; 64 hex digits); the entry for "dev" is not',
      'CALLER_KEYS names "ok" more than once',
    ]);
    expect(problems.join()).not.toContain("not-a-hash");
  });
});
