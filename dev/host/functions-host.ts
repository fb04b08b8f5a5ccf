import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { CoreApi } from "./core-api.js";
import { type HttpFunction, type Invoker, toHttpFunction } from "./http-function.js";

export interface HostOptions {
  routePrefix: string;
  /** The key `function`- and `admin`-level functions require, as Azure does (Core Tools does not check). */
  functionKey: string;
  invoker: Invoker;
  onInvocation?: (line: string) => void;
}

/** Routes requests to the registered HTTP functions as the Functions host does, and invokes them. */
export class FunctionsHost {
  readonly functions: HttpFunction[];
  readonly server: Server;

  constructor(
    core: CoreApi,
    private readonly options: HostOptions,
  ) {
    this.functions = core.registrations
      .map((registration) => toHttpFunction(registration, options.routePrefix))
      .filter((f): f is HttpFunction => f !== undefined)
      .sort((a, b) => b.route.precedence - a.route.precedence);
    this.server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        console.error("Host failed to handle a request:", error);
        if (!res.headersSent) res.writeHead(500, { "content-length": 0 }).end();
        else res.destroy();
      });
    });
  }

  async listen(port: number, host: string): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => resolve());
    });
    return `http://localhost:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const url = new URL(req.url ?? "/", "http://host");
    const found = this.#find(req.method ?? "GET", url.pathname);
    if (!found) {
      res.writeHead(404, { "content-length": 0 }).end();
      return;
    }
    const { fn, params } = found;
    if (fn.authLevel !== "anonymous" && !this.#hasFunctionKey(req, url)) {
      res.writeHead(401, { "content-length": 0 }).end();
      return;
    }
    const invocationId = randomUUID();
    try {
      await this.options.invoker.invoke(fn, params, invocationId, req, res);
    } catch (error) {
      // NOTE: with HTTP streaming, Azure sends no response at all when a handler throws
      // (azure-functions-nodejs-library#324); answering 500 here keeps local runs from hanging.
      console.error(`Function "${fn.name}" failed (Id=${invocationId}):`, error);
      if (!res.headersSent) res.writeHead(500, { "content-length": 0 }).end();
      else res.destroy();
    } finally {
      this.options.onInvocation?.(`${req.method} ${url.pathname} -> ${fn.name} ${res.statusCode} (${Date.now() - started} ms)`);
    }
  }

  #find(method: string, path: string): { fn: HttpFunction; params: Record<string, string> } | undefined {
    for (const fn of this.functions) {
      if (fn.methods && !fn.methods.has(method.toUpperCase())) continue;
      const params = fn.route.match(path);
      if (params) return { fn, params };
    }
    return undefined;
  }

  #hasFunctionKey(req: IncomingMessage, url: URL): boolean {
    return req.headers["x-functions-key"] === this.options.functionKey || url.searchParams.get("code") === this.options.functionKey;
  }
}
