import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { extname, join, normalize } from "node:path";

export interface PageServerOptions {
  /** The built page (dist/web). */
  dir: string;
  port: number;
  /** Served as /config.json: the API's URL and the sign-in settings the page reads at start. */
  config: Record<string, unknown>;
  /** Origins the page talks to (the API, the issuer), for its Content-Security-Policy. */
  connectTo: readonly string[];
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
  ".json": "application/json",
};

/**
 * Serves the built chat page locally (`npm start`, at http://localhost:4280/ by default) with the headers Static
 * Web Apps serves it with in Azure (staticwebapp.config.json): a Content-Security-Policy that lets scripts come
 * only from the page and lets it talk only to the API and the sign-in authority, so even a sanitizer bug could
 * not run a model's script; no framing; no referrer to other sites.
 */
export async function startPageServer(options: PageServerOptions): Promise<{ url: string; close(): Promise<void> }> {
  const headers = pageHeaders(options.connectTo);
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://page").pathname);
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { ...headers, allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/config.json") {
      res.writeHead(200, { ...headers, "content-type": TYPES[".json"] }).end(JSON.stringify(options.config));
      return;
    }
    const file = normalize(join(options.dir, path === "/" ? "index.html" : path));
    if (!file.startsWith(normalize(options.dir)) || !TYPES[extname(file)]) {
      res.writeHead(404, headers).end();
      return;
    }
    readFile(file).then(
      (body) => res.writeHead(200, { ...headers, "content-type": TYPES[extname(file)] as string }).end(body),
      () => res.writeHead(404, headers).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://localhost:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The page's policy: its own scripts and styles only; requests and MSAL's hidden frames to the API and authority only. */
/**
 * The headers every file of the page is served with, here and (staticwebapp.config.json, written by
 * hooks/web-prepackage.mjs) by Static Web Apps.
 */
export function pageHeaders(connectTo: readonly string[]): Record<string, string> {
  return {
    "content-security-policy": pageContentSecurityPolicy(connectTo),
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "cache-control": "no-cache",
  };
}

export function pageContentSecurityPolicy(connectTo: readonly string[]): string {
  const origins = connectTo.join(" ");
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' ${origins}`,
    `frame-src ${origins}`,
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}
