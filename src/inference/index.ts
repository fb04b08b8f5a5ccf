export { isModelError, ModelError, type ModelErrorKind } from "../lib/model-error.js";
export type * from "../lib/wire.js";
export type { MeterTicket, ModelMeter } from "../quotas/meter.js";
export type { ModelCallOptions, ModelPort } from "./model-port.js";
export { ModelRegistry } from "./model-registry.js";
