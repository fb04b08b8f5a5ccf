import { isLoopbackHost } from "./loopback.js";
import type { SettingsReader } from "./settings-reader.js";

const HOST = /^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$/;

/** Where callers reach the routes: `${scheme}://${host}${basePath}/chat`, e.g. https://app.azurewebsites.net/api/chat. */
export interface PublicHost {
  readonly host: string;
  readonly scheme: "http" | "https";
  /** The path the routes sit under: `/api`, or a gateway's own (`/ai/mistral`). */
  readonly basePath: string;
}

/**
 * Where callers reach this app, for what names it to them (the OpenAPI `host` and `basePath`, a job's
 * `Location`). Taken from settings, never from a request's `Host` or `x-forwarded-*` headers, which a
 * caller writes: a cached document would otherwise hand every later reader the host a caller chose.
 * `PUBLIC_BASE_URL` (e.g. `https://api.contoso.com/ai/mistral`, what `/api` is reached as behind a
 * gateway or a custom domain); else `WEBSITE_HOSTNAME`, which App Service sets (and Core Tools
 * locally), with `/api`; the local host falls back to `localhost:PORT`.
 */
export function readPublicHost(settings: SettingsReader): PublicHost {
  const base = settings.string("PUBLIC_BASE_URL", { required: false });
  if (base !== undefined) {
    const url = URL.canParse(base) ? new URL(base) : undefined;
    const plain = url && (url.protocol === "https:" || url.protocol === "http:") && !url.search && !url.hash && !url.username && !url.password;
    if (!url || !plain) {
      settings.problem("PUBLIC_BASE_URL must be an http(s) URL without query, fragment or credentials, e.g. https://api.contoso.com/ai");
    } else {
      const loopback = isLoopbackHost(url.hostname.replace(/^\[|\]$/g, ""));
      if (url.protocol === "http:" && !loopback) settings.problem("PUBLIC_BASE_URL must use https (http only for localhost)");
      return { host: url.host, scheme: url.protocol === "https:" ? "https" : "http", basePath: url.pathname.replace(/\/+$/, "") || "/" };
    }
  }
  const host = settings.string("WEBSITE_HOSTNAME", { required: false }) ?? `localhost:${settings.integer("PORT", 7071, { min: 0, max: 65_535 })}`;
  if (!HOST.test(host)) settings.problem("WEBSITE_HOSTNAME must be a host name, with a port or without");
  const name = host.replace(/:\d+$/, "").toLowerCase();
  return { host, scheme: isLoopbackHost(name) ? "http" : "https", basePath: "/api" };
}
