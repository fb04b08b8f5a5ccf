import type { ChatLimits } from "./chat-limits.js";
import type { IdempotencyConfig } from "./idempotency.js";
import type { JobsConfig } from "./jobs.js";
import type { PublicHost } from "./public-host.js";
import type { Secret } from "./secret.js";

/** How the app authenticates to one model deployment. */
export type ModelCredentialConfig =
  /** A key in a setting (for local use, or filled from a Key Vault reference by the platform). */
  | { readonly kind: "key"; readonly key: Secret }
  /** A key the app reads from Key Vault itself, with its identity, and reads again when it was rotated. */
  | { readonly kind: "keyvault"; readonly vaultUrl: string; readonly secretName: string; readonly secretVersion?: string }
  /** No key: an Entra ID token for `scope`, from the app's identity. */
  | { readonly kind: "entra"; readonly scope: string }
  /** The setting holding the key is an unresolved Key Vault reference: every call fails closed. */
  | { readonly kind: "unavailable"; readonly setting: string };

export interface DeploymentConfig {
  /** The name callers use in `model` (e.g. `mistral-large`). */
  readonly alias: string;
  /** Base URL of the endpoint, without a trailing slash. */
  readonly endpoint: string;
  /** The model name sent upstream in `model` (e.g. `Mistral-Large-2411`; the deployment's name with `openai-v1`). */
  readonly model: string;
  /**
   * The API the deployment is reached through: the Azure AI Model Inference API (`model-inference`,
   * with `apiVersion`), or Foundry's OpenAI v1 API (`openai-v1`, the endpoint ending in `/openai/v1`).
   */
  readonly api: "model-inference" | "openai-v1";
  /** The Model Inference API's `api-version`; unused with `openai-v1`, which has none. */
  readonly apiVersion: string;
  readonly credential: ModelCredentialConfig;
}

/** Who may call with an Entra ID access token, and how the token is checked. */
export interface SignedInUsersConfig {
  readonly tenantId: string;
  /** The token audiences accepted (the API's client id, its Application ID URI). */
  readonly audiences: readonly string[];
  /** The app role that grants chat. */
  readonly role: string;
  /** The issuer: tokens carry it as `iss`; its discovery document names the signing keys. */
  readonly authority: string;
}

/** A caller key, stored only as the SHA-256 of the key. */
export interface CallerKeyConfig {
  readonly name: string;
  readonly sha256: Buffer;
}

export interface HttpToolConfig {
  readonly name: string;
  readonly description: string;
  readonly parameters: Record<string, unknown>;
  /** May carry a signature (Logic Apps triggers), so it is kept like a key. */
  readonly url: Secret;
}

export interface HttpToolsConfig {
  readonly tools: readonly HttpToolConfig[];
  readonly allowedHosts: readonly string[];
  readonly allowLoopback: boolean;
  readonly maxResponseBytes: number;
}

/** The app's storage account: by connection string (local, Azurite), or by managed identity (Azure). */
export type StorageConfig =
  | { readonly kind: "connectionString"; readonly connectionString: Secret }
  /** `clientId`: the user-assigned identity to use; without it, the app's (AZURE_CLIENT_ID). */
  | {
      readonly kind: "identity";
      readonly tableEndpoint: string;
      /** The queue and blob services: from the account name, or their own `__queueServiceUri`/`__blobServiceUri`. */
      readonly queueEndpoint?: string;
      readonly blobEndpoint?: string;
      readonly clientId?: string;
    };

export interface QuotaLimits {
  readonly requestsPerMinute: number;
  readonly tokensPerMinute: number;
}

export interface QuotaConfig {
  readonly enabled: boolean;
  /** The Table Storage table the counters live in (in AzureWebJobsStorage's account). */
  readonly table: string;
  /** What every caller may use, unless `perKey` says otherwise. */
  readonly caller: QuotaLimits;
  /** Per caller key name. */
  readonly perKey: Readonly<Record<string, QuotaLimits>>;
  /** Per deployment alias: the budget all callers share, at or below Azure's own limits. */
  readonly deployments: Readonly<Record<string, QuotaLimits>>;
  /** What a request without max_tokens reserves for its answer (at most MODEL_MAX_TOKENS). */
  readonly answerReserveTokens: number;
  /** The share of each budget an instance leases ahead of need (0 to 50; 0: none). */
  readonly leasePercent: number;
}

export interface CorsConfig {
  /** Exact origins (`https://app.example.com`), or every origin. */
  readonly origins: readonly string[] | "*";
  readonly allowCredentials: boolean;
}

export interface TelemetryConfig {
  /** Application Insights; without it, no telemetry at all. */
  readonly connectionString?: Secret;
  /** Send with Entra ID through this identity (no client id: the system-assigned one). */
  readonly entra?: { readonly clientId?: string };
  /** Record prompts, answers, tool arguments and results. Off by default. */
  readonly captureContent: boolean;
  /** The share of traces kept, 0 to 1. */
  readonly samplingRatio: number;
}

export interface AppConfig {
  /** In the configured order; the first is the default deployment. */
  readonly deployments: readonly DeploymentConfig[];
  /** Upper bound for one model call: every attempt and wait, and a stream to its end. */
  readonly modelTimeoutMs: number;
  /** One attempt, until its answer (JSON) or its headers (stream). */
  readonly attemptTimeoutMs: number;
  /** The longest silence between stream chunks. */
  readonly idleTimeoutMs: number;
  /** The connections to each model endpoint: how many at once, and how long one may sit idle. */
  readonly upstreamPool: { readonly connectionsPerEndpoint: number; readonly idleMs: number };
  /**
   * The most tokens one answer may have; requests without max_tokens get this. NOTE: the worker
   * cannot see a caller leave (azure-functions-nodejs-library#294), so every answer must end.
   */
  readonly maxTokens: number;
  /** For each alias, the alias that answers in its place when it is down (callers opt in). */
  readonly fallbacks: Readonly<Record<string, string>>;
  /** Circuit breaking per deployment. */
  readonly breaker: { readonly failures: number; readonly windowMs: number; readonly coolDownMs: number; readonly minCallers: number };
  /** Our one retry loop: attempts after the first, and the base of its backoff. */
  readonly retries: { readonly maxRetries: number; readonly baseDelayMs: number };
  readonly callerKeys: readonly CallerKeyConfig[];
  /** App Service Authentication is on (WEBSITE_AUTH_ENABLED), so its principal header can be trusted. */
  readonly platformAuth: boolean;
  /** Users signed in with Entra ID, by their access tokens (config/signed-in-users.ts); undefined when off. */
  readonly signedInUsers?: SignedInUsersConfig;
  readonly quotas: QuotaConfig;
  readonly telemetry: TelemetryConfig;
  /** Which browser frontends may call (the platform's CORS is set to the same in Azure). */
  readonly cors: CorsConfig;
  /**
   * The user-assigned managed identity the app uses for Key Vault and Entra ID (AZURE_CLIENT_ID);
   * without it, DefaultAzureCredential picks one (a developer's sign-in when run locally).
   */
  readonly identityClientId?: string;
  /** Settings holding Key Vault references the platform did not resolve: readiness names them. */
  readonly unresolvedSettings: readonly string[];
  /** Tools served over HTTP, from settings. */
  readonly httpTools: HttpToolsConfig;
  /** Limits on server-run tools. */
  readonly tools: {
    readonly timeoutMs: number;
    readonly maxOutputBytes: number;
    readonly maxIterations: number;
    readonly maxCallsPerTurn: number;
    readonly maxCallsPerRequest: number;
    /** Calls of one request running at once. */
    readonly maxConcurrent: number;
    /** Calls running at once on this instance, over every request. */
    readonly maxConcurrentPerInstance: number;
  };
  /** Longest silence on an app-contract stream before a `: ping` comment keeps the connection alive. */
  readonly streamHeartbeatMs: number;
  readonly storage: StorageConfig;
  /** Where callers reach the app (WEBSITE_HOSTNAME), for the OpenAPI document. */
  readonly publicHost: PublicHost;
  /** Idempotency-Key: where keys and kept answers live, and for how long. */
  readonly idempotency: IdempotencyConfig;
  /** Chat jobs (/api/chat/jobs): their queue, table and container, and how they run. */
  readonly jobs: JobsConfig;
  /** How large an app-contract request and each of its messages may be. */
  readonly chat: ChatLimits;
}
