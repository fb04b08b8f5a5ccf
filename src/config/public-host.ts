import { isLoopbackHost } from "./loopback.js";
import type { SettingsReader } from "./settings-reader.js";

const HOST = /^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$/;

/**
 * Where callers reach this app, for documents that name it (the OpenAPI `host`). Taken from the
 * platform's own setting, never from a request's `Host` or `x-forwarded-*` headers, which a caller
 * writes: a cached document would otherwise hand every later reader the host a caller chose.
 * `WEBSITE_HOSTNAME` is set by App Service (and by Core Tools locally); the local host falls back to
 * `localhost:PORT`.
 */
export function readPublicHost(settings: SettingsReader): { host: string; scheme: "http" | "https" } {
  const host = settings.string("WEBSITE_HOSTNAME", { required: false }) ?? `localhost:${settings.integer("PORT", 7071, { min: 0, max: 65_535 })}`;
  if (!HOST.test(host)) settings.problem("WEBSITE_HOSTNAME must be a host name, with a port or without");
  const name = host.replace(/:\d+$/, "").toLowerCase();
  return { host, scheme: isLoopbackHost(name) ? "http" : "https" };
}
