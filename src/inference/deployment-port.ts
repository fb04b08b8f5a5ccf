import type { Readable } from "node:stream";
import type { DeploymentConfig } from "../config/index.js";
import { isCredentialError, isIdentityError } from "../credentials/credential-error.js";
import { type ModelAuth, modelAuthFor } from "../credentials/model-auth.js";
import { managedStream } from "../lib/managed-stream.js";
import { isModelError, ModelError } from "../lib/model-error.js";
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionsBody, ModelInfo } from "../lib/wire.js";
import { type AttemptInfo, type AttemptSpan, telemetry } from "../telemetry/telemetry.js";
import { CallSignal } from "./call-signal.js";
import { inferenceWire } from "./inference-wire.js";
import type { ModelCallOptions, ModelPort } from "./model-port.js";
import type { ModelApi, ModelWire } from "./model-wire.js";
import { openAiWire } from "./openai-wire.js";
import { decodeChunks } from "./sse-chunks.js";
import type { UndiciHttpClient } from "./undici-http-client.js";
import { modelErrorFromResponse } from "./upstream-error.js";

export interface ModelTimeouts {
  attemptMs: number;
  idleMs: number;
}

/** Error bodies are small; never read an unbounded one into memory. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

export interface DeploymentPortOptions {
  deployment: DeploymentConfig;
  /**
   * `attemptMs` bounds an attempt until its answer (a JSON answer) or its headers (a stream); `idleMs`
   * bounds each silence between stream chunks.
   */
  timeouts: ModelTimeouts;
  /** The app's transport (connection pools shared by every deployment); each client's own when absent. */
  httpClient?: UndiciHttpClient;
  /** Sent when a request has no max_tokens of its own, so no answer runs unbounded. */
  maxTokens?: number;
  auth?: ModelAuth;
}

/**
 * One model deployment, whichever API it is reached through (its ModelWire): SDK retries off, our
 * timeouts, the same errors, streams and telemetry for both.
 */
export class DeploymentPort implements ModelPort {
  readonly alias: string;
  readonly api: ModelApi;
  readonly #deployment: DeploymentConfig;
  readonly #timeouts: ModelTimeouts;
  readonly #auth: ModelAuth;
  /** Where the deployment is, for telemetry. */
  readonly #server: { serverAddress: string; serverPort: number };
  readonly #httpClient: UndiciHttpClient | undefined;
  readonly #maxTokens: number | undefined;
  #wire: ModelWire | undefined;

  constructor(options: DeploymentPortOptions) {
    const { deployment } = options;
    this.alias = deployment.alias;
    this.api = deployment.api;
    this.#deployment = deployment;
    this.#timeouts = options.timeouts;
    this.#maxTokens = options.maxTokens;
    this.#auth = options.auth ?? modelAuthFor(deployment, undefined);
    this.#httpClient = options.httpClient;
    const url = new URL(deployment.endpoint);
    this.#server = { serverAddress: url.hostname, serverPort: Number(url.port) || (url.protocol === "https:" ? 443 : 80) };
  }

  /** Built on first use, once the credential is at hand (a Key Vault key is read then). */
  async #modelWire(signal: AbortSignal): Promise<ModelWire> {
    if (this.#wire) return this.#wire;
    const credential = await this.#auth.credential(signal);
    this.#wire ??=
      this.api === "openai-v1"
        ? openAiWire(this.#deployment, credential, this.#auth.scopes, this.#httpClient?.fetch)
        : inferenceWire(this.#deployment, credential, this.#auth.scopes, this.#httpClient);
    return this.#wire;
  }

  /**
   * One more attempt when the model refused our key and a fresh one was read (a rotated Key Vault
   * secret); any other failure, or a key that did not change, is the caller's answer as it is.
   */
  async #renewingOnRefusal<T>(attempt: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const generation = this.#auth.generation;
    try {
      return await attempt();
    } catch (error) {
      if (!isModelError(error) || error.kind !== "upstream" || error.status !== 401) throw error;
      let renewed: boolean;
      try {
        renewed = await this.#auth.renewAfterRefusal(generation, signal);
      } catch (renewalError) {
        throw credentialFailure(renewalError);
      }
      if (!renewed) throw error;
      return attempt();
    }
  }

  complete(body: ChatCompletionsBody, options: ModelCallOptions = {}): Promise<ChatCompletion> {
    return this.#renewingOnRefusal(() => this.#complete(body, options), options.signal);
  }

  stream(body: ChatCompletionsBody, options: ModelCallOptions = {}): Promise<AsyncIterable<ChatCompletionChunk>> {
    return this.#renewingOnRefusal(() => this.#stream(body, options), options.signal);
  }

  info(options: { signal?: AbortSignal } = {}): Promise<ModelInfo> {
    return this.#renewingOnRefusal(() => this.#info(options), options.signal);
  }

  async #complete(body: ChatCompletionsBody, options: ModelCallOptions): Promise<ChatCompletion> {
    const call = new CallSignal(this.#timeouts.attemptMs, options.signal, options.deadlineAt);
    const upstreamBody = this.#upstreamBody(body, false);
    const attempt = telemetry().chatAttempt(this.#attemptInfo(upstreamBody));
    try {
      const wire = await this.#modelWire(call.signal);
      const response = await wire.chat(upstreamBody, { headers: this.#headers(options), signal: call.signal, stream: false });
      if (response.status !== 200) throw this.#errorFrom(response.status, response.headers, response.body);
      const completion = requireCompletion(response.body);
      attempt.completed(completion);
      return completion;
    } catch (error) {
      const failure = this.#failure(error, call);
      attempt.failed(failure.code, failure.kind === "upstream" ? failure.status : undefined);
      throw failure;
    } finally {
      call.dispose();
      attempt.end();
    }
  }

  async #stream(body: ChatCompletionsBody, options: ModelCallOptions): Promise<AsyncIterable<ChatCompletionChunk>> {
    const call = new CallSignal(this.#timeouts.attemptMs, options.signal, options.deadlineAt);
    let stream: Readable | undefined;
    const upstreamBody = this.#upstreamBody(body, true);
    const attempt = telemetry().chatAttempt(this.#attemptInfo(upstreamBody));
    try {
      const wire = await this.#modelWire(call.signal);
      const response = await wire.chat(upstreamBody, { headers: this.#headers(options), signal: call.signal, stream: true });
      stream = response.stream;
      if (response.status !== 200) throw this.#errorFrom(response.status, response.headers, stream ? await readSmallBody(stream) : response.body);
      if (!stream) throw new ModelError({ kind: "protocol", status: 502, code: "bad_upstream_response", message: "The model sent no body." });
      if (!String(response.headers["content-type"] ?? "").startsWith("text/event-stream")) {
        stream.destroy();
        throw new ModelError({ kind: "protocol", status: 502, code: "bad_upstream_response", message: "The model did not answer with an event stream." });
      }
      const { createSseStream } = require("@azure/core-sse") as typeof import("@azure/core-sse");
      call.rearm(this.#timeouts.idleMs);
      return this.#chunks(createSseStream(stream), stream, call, attempt);
    } catch (error) {
      const failure = this.#failure(error, call);
      stream?.destroy();
      call.abort();
      attempt.failed(failure.code, failure.kind === "upstream" ? failure.status : undefined);
      attempt.end();
      throw failure;
    }
  }

  async #info(options: { signal?: AbortSignal }): Promise<ModelInfo> {
    const call = new CallSignal(this.#timeouts.attemptMs, options.signal);
    try {
      const wire = await this.#modelWire(call.signal);
      const response = await wire.info(call.signal);
      if (response.status !== 200) throw this.#errorFrom(response.status, response.headers, response.body);
      return requireModelInfo(response.body);
    } catch (error) {
      throw this.#failure(error, call);
    } finally {
      call.dispose();
    }
  }

  #chunks(events: AsyncIterable<{ data: string }>, stream: Readable, call: CallSignal, attempt: AttemptSpan): AsyncIterable<ChatCompletionChunk> {
    const idleMs = this.#timeouts.idleMs;
    const eventIterator = events[Symbol.asyncIterator]();
    let finished = false;
    const chunks = async function* (port: DeploymentPort) {
      try {
        // Stopping at [DONE] leaves the events as they are: the cleanup reads what follows.
        for await (const chunk of decodeChunks(uncancelled(eventIterator))) {
          call.rearm(idleMs);
          attempt.chunk(chunk);
          yield chunk;
        }
        finished = true;
      } catch (error) {
        const failure = port.#failure(error, call, "upstream_stream_broken");
        attempt.failed(failure.code, failure.kind === "upstream" ? failure.status : undefined);
        throw failure;
      }
    };
    // Runs when the stream ends, fails, or the consumer stops (even before reading): the attempt's
    // span ends, and the upstream response is either read to its end (after [DONE], so the keep-alive
    // connection serves the next call) or aborted, which releases its socket and the call's timer.
    return managedStream(chunks(this), () => {
      attempt.end();
      if (finished) {
        call.rearm(idleMs);
        void drain(eventIterator).then(
          () => call.dispose(),
          () => abortUpstream(eventIterator, stream, call),
        );
      } else {
        abortUpstream(eventIterator, stream, call);
      }
    });
  }

  #upstreamBody(body: ChatCompletionsBody, stream: boolean): ChatCompletionsBody {
    const maxTokens = body.max_tokens ?? this.#maxTokens;
    return { ...body, model: this.#deployment.model, stream, ...(maxTokens !== undefined ? { max_tokens: maxTokens } : {}) };
  }

  #attemptInfo(body: ChatCompletionsBody): AttemptInfo {
    return { alias: this.alias, api: this.api, model: this.#deployment.model, body, stream: body.stream === true, ...this.#server };
  }

  #headers(options: ModelCallOptions): Record<string, string> {
    return options.extraParameters ? { "extra-parameters": options.extraParameters } : {};
  }

  #errorFrom(status: number, headers: Record<string, string>, body: unknown): ModelError {
    return modelErrorFromResponse({ status, header: (name) => headers[name], body }, this.#auth.secrets());
  }

  /** Every failure leaves as a ModelError; transport errors never carry the SDK's message (it names the URL). */
  #failure(error: unknown, call: CallSignal, networkCode = "upstream_unreachable"): ModelError {
    if (isModelError(error)) return error;
    if (isCredentialError(error) || isIdentityError(error)) return credentialFailure(error);
    const signalled = call.failure();
    if (signalled) return signalled;
    if ((error as { code?: unknown } | null)?.code === "PARSE_ERROR") {
      return new ModelError({ kind: "protocol", status: 502, code: "bad_upstream_response", message: "The model's answer is not valid JSON." });
    }
    // Anything that did not come from the connection failed here, before or after the model was
    // reached: never retried, never the deployment's fault, never called "unreachable".
    if (!isTransportError(error)) {
      return new ModelError({
        kind: "internal",
        status: 500,
        code: "internal_error",
        message: "The request failed unexpectedly; quote request_id when reporting it.",
      });
    }
    return new ModelError({
      kind: "network",
      status: 502,
      code: networkCode,
      message: networkCode === "upstream_unreachable" ? "The model endpoint could not be reached." : "The connection to the model broke during the answer.",
    });
  }
}

/**
 * A failure of the connection to the model: what undici or Node's sockets throw (`UND_ERR_*`,
 * `ECONNREFUSED`...), and the SDK's own transport's `REQUEST_SEND_ERROR`, seen through `cause` too.
 */
const TRANSPORT_CODE =
  /^(UND_ERR_|HPE_|ERR_TLS_|ERR_SSL_|ERR_SOCKET_|ERR_STREAM_PREMATURE_CLOSE$|REQUEST_SEND_ERROR$|E(?!RR_)[A-Z]+(_[A-Z]+)?$)|CERT|SELF_SIGNED|UNABLE_TO_/;

function isTransportError(error: unknown): boolean {
  for (let current = error, depth = 0; current && typeof current === "object" && depth < 5; depth++) {
    const { code, syscall, name } = current as { code?: unknown; syscall?: unknown; name?: unknown };
    if (typeof code === "string" && TRANSPORT_CODE.test(code)) return true;
    if (typeof syscall === "string" || name === "SocketError" || name === "ConnectTimeoutError") return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** The app could not authenticate to the model: the caller gets a 503; readiness names the cause. */
function credentialFailure(error: unknown): ModelError {
  if (isModelError(error)) return error;
  return new ModelError({
    kind: "credential",
    status: 503,
    code: "model_credential_unavailable",
    message: "This app's credentials for the model are unavailable right now; its readiness check names the cause.",
  });
}

function requireCompletion(body: unknown): ChatCompletion {
  const choices = (body as { choices?: unknown } | null)?.choices;
  if (!body || typeof body !== "object" || !Array.isArray(choices)) {
    throw new ModelError({ kind: "protocol", status: 502, code: "bad_upstream_response", message: "The model's answer has no choices." });
  }
  return body as ChatCompletion;
}

function requireModelInfo(body: unknown): ModelInfo {
  const info = body as Partial<ModelInfo> | null;
  if (!info || typeof info.model_name !== "string" || typeof info.model_type !== "string" || typeof info.model_provider_name !== "string") {
    throw new ModelError({ kind: "protocol", status: 502, code: "bad_upstream_response", message: "The model's /info answer is malformed." });
  }
  return { model_name: info.model_name, model_type: info.model_type, model_provider_name: info.model_provider_name };
}

async function readSmallBody(stream: Readable): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of stream) {
    const buffer = Buffer.isBuffer(part) ? part : Buffer.from(part as string);
    size += buffer.length;
    if (size > MAX_ERROR_BODY_BYTES) break;
    parts.push(buffer);
  }
  stream.destroy();
  return Buffer.concat(parts).toString("utf8");
}

/**
 * The events without the `return` that a `for await` calls when it stops early: at [DONE] the
 * response's last bytes are read rather than cancelled, since cancelling an unfinished response
 * closes its connection and costs an abort error with a stack trace on every stream.
 */
function uncancelled<T>(iterator: AsyncIterator<T>): AsyncIterable<T> {
  return { [Symbol.asyncIterator]: () => ({ next: () => iterator.next() }) };
}

/** Reads the events after [DONE] (a model sends none: only the end of the response follows). */
async function drain(iterator: AsyncIterator<unknown>): Promise<void> {
  while (!(await iterator.next()).done);
}

function abortUpstream(events: AsyncIterator<unknown>, stream: Readable, call: CallSignal): void {
  events.return?.().catch(() => undefined);
  stream.destroy();
  call.abort();
}
