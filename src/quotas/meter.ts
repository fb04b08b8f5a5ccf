import type { ChatCompletionsBody, WireUsage } from "../lib/wire.js";

/**
 * Counts model calls against quotas: asked before each call to a deployment (after fallback chose
 * it, before retries), told the usage after. Refusals are thrown and reach the caller as they are.
 */
export interface ModelMeter {
  admit(alias: string, body: ChatCompletionsBody, signal?: AbortSignal): Promise<MeterTicket>;
}

export interface MeterTicket {
  /**
   * The call is over. `usage` is what the model reported; without it (a failed call, a stream cut
   * short) `streamedChunks` says how much of an answer was sent, each chunk about one token.
   */
  settle(usage: WireUsage | undefined, streamedChunks: number): void;
}
