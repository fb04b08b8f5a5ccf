export type { ModelPort, ModelCallOptions, ModelMeter, MeterTicket } from "./model-port.js";
export { ModelError, isModelError, type ModelErrorKind } from "../lib/model-error.js";
export { ModelRegistry } from "./model-registry.js";
export type * from "./wire.js";
