import type { SettingsReader } from "./settings-reader.js";
import type { QuotaConfig, QuotaLimits } from "./types.js";

/**
 * Azure's limits for a serverless Mistral deployment (requests and tokens per minute); the
 * deployment budget defaults to them so we throttle before Azure does.
 */
const AZURE_DEPLOYMENT_LIMITS: QuotaLimits = { requestsPerMinute: 1_000, tokensPerMinute: 200_000 };
/** One caller may use half a deployment by default: no single caller can starve the others. */
const DEFAULT_CALLER_LIMITS: QuotaLimits = { requestsPerMinute: 500, tokensPerMinute: 100_000 };
const MAX_PER_MINUTE = 100_000_000;
const OVERRIDE = /^([A-Za-z0-9._-]{1,64}):(\d+)\/(\d+)$/;

/**
 * `QUOTAS` (on|off), `QUOTA_TABLE`, `QUOTA_ANSWER_RESERVE_TOKENS`, `QUOTA_LEASE_PERCENT`, `QUOTA_CALLER_REQUESTS_PER_MINUTE`, `QUOTA_CALLER_TOKENS_PER_MINUTE`,
 * `CALLER_QUOTAS` (`keyname:requests/tokens,...`, per caller key), and per deployment
 * `MODEL_<ALIAS>_REQUESTS_PER_MINUTE` / `MODEL_<ALIAS>_TOKENS_PER_MINUTE`.
 */
export function readQuotas(settings: SettingsReader, deploymentPrefixes: Readonly<Record<string, string>>, keyNames: readonly string[]): QuotaConfig {
  const enabled = settings.oneOf("QUOTAS", ["on", "off"] as const, "on") === "on";
  const table = settings.tableName("QUOTA_TABLE", "quotas");
  const caller = limits(settings, "QUOTA_CALLER_", DEFAULT_CALLER_LIMITS);
  const perKey: Record<string, QuotaLimits> = {};
  for (const entry of settings.list("CALLER_QUOTAS", { required: false })) {
    const match = OVERRIDE.exec(entry);
    if (!match) {
      settings.problem("CALLER_QUOTAS: each entry must be keyname:requests/tokens (per minute), e.g. ci:60/20000");
      continue;
    }
    const [, name = "", requests = "", tokens = ""] = match;
    if (!keyNames.includes(name)) settings.problem(`CALLER_QUOTAS names "${name}", which is not a key in CALLER_KEYS`);
    else perKey[name] = { requestsPerMinute: Math.min(Number(requests), MAX_PER_MINUTE), tokensPerMinute: Math.min(Number(tokens), MAX_PER_MINUTE) };
  }
  // NOTE: a request without max_tokens may run to MODEL_MAX_TOKENS. Reserving all of that (4,096 by
  // default) would let a caller with 100,000 tokens a minute make only 24 such requests; reserving
  // this much lets it make well over 100, and the call is charged what it really used when it ends.
  // The price: each such call in flight may overshoot the limit by MODEL_MAX_TOKENS minus this.
  const answerReserveTokens = settings.integer("QUOTA_ANSWER_RESERVE_TOKENS", 500, { min: 1, max: MAX_PER_MINUTE });
  // NOTE: each instance leases this share of every budget it uses ahead of need, so admissions are
  // decided in memory; the price is that a request may be refused while up to (instances - 1) leases
  // sit unused elsewhere (given back after 2 s idle). 0 turns leasing off: a round trip per admission.
  const leasePercent = settings.integer("QUOTA_LEASE_PERCENT", 5, { min: 0, max: 50 });
  const deployments: Record<string, QuotaLimits> = {};
  for (const [alias, prefix] of Object.entries(deploymentPrefixes)) deployments[alias] = limits(settings, prefix, AZURE_DEPLOYMENT_LIMITS);
  return { enabled, table, caller, perKey, deployments, answerReserveTokens, leasePercent };
}

function limits(settings: SettingsReader, prefix: string, defaults: QuotaLimits): QuotaLimits {
  return {
    requestsPerMinute: settings.integer(`${prefix}REQUESTS_PER_MINUTE`, defaults.requestsPerMinute, { min: 1, max: MAX_PER_MINUTE }),
    tokensPerMinute: settings.integer(`${prefix}TOKENS_PER_MINUTE`, defaults.tokensPerMinute, { min: 1, max: MAX_PER_MINUTE }),
  };
}
