export { escapeRowKey } from "../storage/row-key.js";
export { estimatePromptTokens, estimateTextTokens, MESSAGE_OVERHEAD_TOKENS } from "./estimate-tokens.js";
export { LeasedQuotaStore, type LeasedQuotaStoreOptions, type SharedCounters } from "./leased-quota-store.js";
export { QuotaStoreError, type QuotaStoreErrorCode } from "./quota-store-error.js";
export { RETENTION_MS } from "./quota-table.js";
export type { Admission, Admitted, QuotaCounter, QuotaLimits, QuotaRemaining, QuotaStore, RefusalReason, Refused } from "./quota-types.js";
export { DEFAULT_QUOTA_TABLE, TableQuotaStore, type TableQuotaStoreOptions, type Take } from "./table-quota-store.js";
export { retryAfterSeconds, WINDOW_MS, windowEndMs, windowOf, windowStartMs } from "./window.js";
