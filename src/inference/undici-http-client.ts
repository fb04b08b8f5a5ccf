import type { HttpClient, PipelineRequest, PipelineResponse } from "@azure/core-rest-pipeline";
import type { Agent, Dispatcher } from "undici";

/**
 * The transport under the @azure-rest/ai-inference pipeline: undici's connection pools instead of the
 * SDK's default `http.request` client, which costs noticeably more CPU per call (measured with
 * `npm run bench`). The SDK's own policies (auth, api-version, user agent, logging) still run.
 * Timeouts and cancellation come from each request's AbortSignal (our deadlines), so undici's own
 * timers only stop a connection that would otherwise hang past any deadline we set. undici is loaded
 * with the first call, not at start-up.
 */
export interface UndiciHttpClientOptions {
  /** undici's own timers (headers, body): only a connection that would hang past every deadline of ours. */
  outerTimeoutMs: number;
  /**
   * Connections per origin (one model endpoint: a serverless endpoint, or a Foundry resource and all its
   * deployments), open at once; more requests wait for one. Unlimited when absent.
   */
  connectionsPerOrigin?: number;
  /** How long an idle connection is kept for the next request before it is closed. */
  idleMs?: number;
}

export class UndiciHttpClient implements HttpClient {
  readonly #options: UndiciHttpClientOptions;
  #transport: { agent: Agent; createHttpHeaders: typeof import("@azure/core-rest-pipeline").createHttpHeaders } | undefined;

  constructor(options: UndiciHttpClientOptions) {
    this.#options = options;
  }

  #load() {
    if (!this.#transport) {
      // require, not import(), to keep the CommonJS builds the rest of the app uses.
      const undici = require("undici") as typeof import("undici");
      const pipeline = require("@azure/core-rest-pipeline") as typeof import("@azure/core-rest-pipeline");
      const { outerTimeoutMs, connectionsPerOrigin, idleMs = 10_000 } = this.#options;
      this.#transport = {
        agent: new undici.Agent({
          ...(connectionsPerOrigin ? { connections: connectionsPerOrigin } : {}),
          // A server's own keep-alive hint may shorten it, never lengthen it past ours.
          keepAliveTimeout: idleMs,
          keepAliveMaxTimeout: idleMs,
          headersTimeout: outerTimeoutMs,
          bodyTimeout: outerTimeoutMs,
        }),
        createHttpHeaders: pipeline.createHttpHeaders,
      };
    }
    return this.#transport;
  }

  async sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
    const { agent, createHttpHeaders } = this.#load();
    const url = new URL(request.url);
    const response = await agent.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: request.method as Dispatcher.HttpMethod,
      headers: request.headers.toJSON(),
      body: requestBody(request.body),
      signal: request.abortSignal,
    });
    const headers = createHttpHeaders(flatten(response.headers));
    const streamed = request.streamResponseStatusCodes?.has(response.statusCode) || request.streamResponseStatusCodes?.has(Number.POSITIVE_INFINITY);
    if (streamed) {
      return { request, status: response.statusCode, headers, readableStreamBody: response.body };
    }
    return { request, status: response.statusCode, headers, bodyAsText: await response.body.text() };
  }

  /**
   * `fetch` over the same connection pools, for clients that take a fetch rather than a pipeline
   * transport (the `openai` client of OpenAI v1 deployments).
   */
  readonly fetch = ((input: Parameters<typeof globalThis.fetch>[0], init?: Parameters<typeof globalThis.fetch>[1]) => {
    const { agent } = this.#load();
    const undici = require("undici") as typeof import("undici");
    return undici.fetch(input as never, { ...(init as object), dispatcher: agent }) as unknown as Promise<Response>;
  }) as typeof globalThis.fetch;

  async close(): Promise<void> {
    if (this.#transport) await this.#transport.agent.close();
  }
}

function requestBody(body: PipelineRequest["body"]): string | Uint8Array | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === "string" || body instanceof Uint8Array) return body;
  // The model API sends JSON only; anything else is a programming error, not something to guess at.
  throw new Error("UndiciHttpClient sends string or byte bodies only");
}

function flatten(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return flat;
}
