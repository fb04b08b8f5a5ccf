export type { ModelPort, ModelCallOptions } from "./model-port.js";
export type { ModelMeter, MeterTicket } from "../quotas/meter.js";
export { ModelError, isModelError, type ModelErrorKind } from "../lib/model-error.js";
export { ModelRegistry } from "./model-registry.js";
export type * from "../lib/wire.js";
