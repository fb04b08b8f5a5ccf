import type { HttpRequest } from "@azure/functions";
import { type ChatRun, openChat } from "../chat/engine.js";
import type { PreparedChat } from "../chat/prepare.js";
import type { ModelRegistry } from "../inference/index.js";
import { callerDeadline } from "./caller-deadline.js";
import { fallbackAllowed } from "./fallback.js";

/**
 * Opens an app-contract chat for a request: one deadline for all of it, `MODEL_TIMEOUT_MS` from now (a
 * fallback gets what is left, not a fresh budget), the caller's own deadline and fallback choice from
 * its headers, failed attempts reported to `warn`. A failure before the model accepted the request is
 * thrown as it is: the handler wrapper turns it into the caller's problem, as everything else.
 */
export function openRouteChat(
  prepared: PreparedChat,
  request: HttpRequest,
  runtime: { models: ModelRegistry; config: { modelTimeoutMs: number } },
  options: { stream: boolean; warn: (message: string) => void },
): Promise<ChatRun> {
  return openChat(prepared, {
    models: runtime.models,
    allowFallback: fallbackAllowed(request),
    stream: options.stream,
    deadlineAt: Date.now() + runtime.config.modelTimeoutMs,
    signal: callerDeadline(request),
    warn: options.warn,
  });
}
