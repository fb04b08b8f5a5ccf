import { randomUUID } from "node:crypto";
import { type IncomingMessage, type Server, type ServerResponse, createServer, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import type { CoreApi, FunctionMetadata, InvocationModel, Registration, RpcBindingInfo } from "./core-api.js";
import { type CompiledRoute, compileRoute } from "./route-template.js";

export interface HttpFunction {
  registration: Registration;
  trigger: RpcBindingInfo & { name: string };
  route: CompiledRoute;
  methods: Set<string> | undefined;
  authLevel: string;
}

export interface HostOptions {
  routePrefix: string;
  /** The key `function`- and `admin`-level functions require, as Azure does (Core Tools does not check). */
  functionKey: string;
  /** The http proxy of `@azure/functions` (enableHttpStream), from its capabilities. */
  proxyUri: string;
  onInvocation?: (line: string) => void;
}

/**
 * Serves the registered HTTP functions as the Functions host does with HTTP streaming on: it starts
 * an invocation through the library's own programming model and forwards the request to the
 * library's http proxy, which the handler's streamed response comes back through.
 */
export class FunctionsHost {
  readonly functions: HttpFunction[];
  readonly server: Server;

  constructor(
    private readonly core: CoreApi,
    private readonly options: HostOptions,
  ) {
    this.functions = core.registrations
      .map((registration) => toHttpFunction(registration, options.routePrefix))
      .filter((f): f is HttpFunction => f !== undefined)
      .sort((a, b) => b.route.precedence - a.route.precedence);
    this.server = createServer((req, res) => void this.#handle(req, res));
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
      await this.#invoke(fn, params, invocationId, req, res);
    } catch (error) {
      // NOTE: with HTTP streaming, Azure sends no response at all when a handler throws
      // (azure-functions-nodejs-library#324); answering 500 here keeps local runs from hanging.
      console.error(`Function "${fn.registration.metadata.name}" failed (Id=${invocationId}):`, error);
      if (!res.headersSent) res.writeHead(500, { "content-length": 0 }).end();
      else res.destroy();
    } finally {
      this.options.onInvocation?.(
        `${req.method} ${url.pathname} -> ${fn.registration.metadata.name} ${res.statusCode} (${Date.now() - started} ms)`,
      );
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

  async #invoke(fn: HttpFunction, params: Record<string, string>, invocationId: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const model = this.core.programmingModel;
    if (!model) throw new Error("@azure/functions did not set its programming model");
    const metadata: FunctionMetadata = fn.registration.metadata;
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : (v ?? "")]),
    );
    const triggerMetadata: Record<string, unknown> = { Headers: { json: JSON.stringify(headers) } };
    for (const [name, value] of Object.entries(params)) triggerMetadata[name] = { string: value };
    const traceparent = headers.traceparent;
    const coreCtx: Record<string, unknown> = {
      invocationId,
      request: {
        invocationId,
        inputData: [{ name: fn.trigger.name, data: { http: {} } }],
        triggerMetadata,
        traceContext: traceparent ? { traceParent: traceparent, traceState: headers.tracestate ?? "", attributes: {} } : undefined,
      },
      metadata,
      state: undefined,
      log: (level: string, category: string, message: string) => this.core.log(level as never, category, `[${metadata.name}] ${message}`),
    };
    const invocation = model.getInvocationModel(coreCtx);
    const proxy = this.#forwardToProxy(invocationId, req, res);
    try {
      await this.#run(fn, invocation, coreCtx);
      await proxy.done;
    } catch (error) {
      proxy.abort();
      throw error;
    }
  }

  /** One invocation as the worker runs it: arguments, preInvocation hooks, handler, postInvocation hooks, response. */
  async #run(fn: HttpFunction, invocation: InvocationModel, coreCtx: Record<string, unknown>): Promise<void> {
    const { context, inputs } = await invocation.getArguments();
    const pre = { hookData: {}, invocationContext: context, inputs, functionCallback: fn.registration.callback };
    coreCtx.state = "preInvocationHooks";
    await this.core.runHooks("preInvocation", pre);
    coreCtx.state = "invocation";
    let result: unknown;
    let error: unknown;
    try {
      result = await invocation.invokeFunction(context, pre.inputs, pre.functionCallback);
    } catch (thrown) {
      error = thrown;
    }
    const post = { hookData: pre.hookData, invocationContext: context, inputs: pre.inputs, result, error };
    coreCtx.state = "postInvocationHooks";
    await this.core.runHooks("postInvocation", post);
    if (post.error) throw post.error;
    await invocation.getResponse(context, post.result);
  }

  /**
   * Sends the caller's request to the library's proxy and streams its answer back. Like Azure, the
   * function never learns that the caller left: the proxied answer is read to its end regardless.
   */
  #forwardToProxy(invocationId: string, req: IncomingMessage, res: ServerResponse): { done: Promise<void>; abort: () => void } {
    const target = new URL(req.url ?? "/", this.options.proxyUri);
    let proxyReq: ReturnType<typeof httpRequest> | undefined;
    const done = new Promise<void>((resolve, reject) => {
      proxyReq = httpRequest(target, {
        method: req.method,
        headers: {
          ...req.headers,
          "x-ms-invocation-id": invocationId,
          "x-forwarded-host": req.headers.host ?? "localhost",
          "x-forwarded-proto": "http",
        },
      });
      proxyReq.on("response", (proxyRes) => {
        const headers = { ...proxyRes.headers };
        delete headers["x-ms-invocation-id"];
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(proxyRes.statusCode ?? 500, headers);
          res.flushHeaders();
        }
        proxyRes.on("data", (chunk: Buffer) => {
          if (!res.destroyed) res.write(chunk);
        });
        proxyRes.on("end", () => {
          res.end();
          resolve();
        });
        proxyRes.on("error", reject);
      });
      proxyReq.on("error", reject);
      req.pipe(proxyReq);
    });
    done.catch(() => undefined);
    return { done, abort: () => proxyReq?.destroy() };
  }
}

function toHttpFunction(registration: Registration, prefix: string): HttpFunction | undefined {
  const trigger = Object.entries(registration.metadata.bindings).find(([, b]) => b.type?.toLowerCase() === "httptrigger");
  if (!trigger) return undefined;
  const [name, binding] = trigger;
  const route = binding.route ?? registration.metadata.name;
  return {
    registration,
    trigger: { ...binding, name },
    route: compileRoute([prefix, route].filter((s) => s !== "").join("/")),
    methods: binding.methods ? new Set(binding.methods.map((m) => m.toUpperCase())) : undefined,
    authLevel: (binding.authLevel ?? "function").toLowerCase(),
  };
}
