import { request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { CoreApi, InvocationModel } from "./core-api.js";
import { flatHeaders, type HttpFunction, type Invoker } from "./http-function.js";
import { hostTraceContext } from "./trace-context.js";

/**
 * Invokes a function the way the Functions host does with HTTP streaming: an invocation through the
 * library's own programming model (as the worker runs it), with the HTTP request forwarded to the
 * library's http proxy, which the handler's response comes back through. Every byte of the exchange
 * is produced by @azure/functions itself; it costs one more loopback HTTP hop than DirectInvoker.
 */
export class ProxyInvoker implements Invoker {
  constructor(
    private readonly core: CoreApi,
    private readonly proxyUri: string,
  ) {}

  async invoke(fn: HttpFunction, params: Record<string, string>, invocationId: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const model = this.core.programmingModel;
    if (!model) throw new Error("@azure/functions did not set its programming model");
    const headers = flatHeaders(req);
    const triggerMetadata: Record<string, unknown> = { Headers: { json: JSON.stringify(headers) } };
    for (const [name, value] of Object.entries(params)) triggerMetadata[name] = { string: value };
    const coreCtx: Record<string, unknown> = {
      invocationId,
      request: {
        invocationId,
        inputData: [{ name: fn.trigger.name, data: { http: {} } }],
        triggerMetadata,
        traceContext: hostTraceContext(headers.traceparent, headers.tracestate),
      },
      metadata: fn.registration.metadata,
      state: undefined,
      log: (level: string, category: string, message: string) => this.core.log(level as never, category, `[${fn.name}] ${message}`),
    };
    const invocation = model.getInvocationModel(coreCtx);
    const proxy = this.#forward(invocationId, req, res);
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
  #forward(invocationId: string, req: IncomingMessage, res: ServerResponse): { done: Promise<void>; abort: () => void } {
    const target = new URL(req.url ?? "/", this.proxyUri);
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
        if (!res.headersSent && !res.destroyed) res.writeHead(proxyRes.statusCode ?? 500, headers);
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
