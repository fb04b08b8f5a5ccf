import type { SettingsReader } from "./settings-reader.js";

export interface ChatLimits {
  /** The largest `/api/chat` body (and `/stream`, `/jobs`, `/ask`): refused with a 413 before more is read. */
  readonly maxBodyBytes: number;
  /** The largest single message, as JSON. */
  readonly maxMessageBytes: number;
}

const MIB = 1_048_576;

/**
 * `CHAT_MAX_BODY_BYTES` (default 1 MiB) and `CHAT_MAX_MESSAGE_BYTES` (default the same). A document to
 * summarise is one long message, and the model's context window is its real limit: 1 MiB is about a
 * quarter of a million tokens, past the 128k of the largest Mistral models, while still bounding what
 * one request makes this app read and parse.
 */
export function readChatLimits(settings: SettingsReader): ChatLimits {
  const maxBodyBytes = settings.integer("CHAT_MAX_BODY_BYTES", MIB, { min: 64 * 1024, max: 4 * MIB });
  const maxMessageBytes = settings.integer("CHAT_MAX_MESSAGE_BYTES", maxBodyBytes, { min: 1024, max: 4 * MIB });
  if (maxMessageBytes > maxBodyBytes) settings.problem("CHAT_MAX_MESSAGE_BYTES must not be larger than CHAT_MAX_BODY_BYTES");
  return { maxBodyBytes, maxMessageBytes };
}
