import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type Answer, type Timing, writeCompletion, writeStream } from "./answer-writer.js";
import { type EntraOptions, isAuthorized } from "./caller-credentials.js";
import { DEFAULT_DEPLOYMENTS, type EmulatedDeployment, findDeployment } from "./deployments.js";
import { type Fault, FaultQueue, faultProblems } from "./fault-queue.js";
import { generateReply } from "./generate-reply.js";
import { readBody, sendJson, sendWireError, sleep, untilClosed } from "./http-io.js";
import { AZURE_SERVERLESS_LIMITS, RateLimiter, type RateLimits } from "./rate-limiter.js";
import { type LoggedRequest, RequestLog } from "./request-log.js";
import type { ScenarioRule } from "./scenarios.js";
import { countJsonTokens, countPromptTokens } from "./tokens.js";
import { parseExtraParametersHeader, validateChatRequest } from "./validate-request.js";
import { wireError } from "./wire-errors.js";

/**
 * Foundry's OpenAI v1 API, at the root: the deployment's name in `model` (required), `api-key` or a
 * bearer token, no `api-version` (or `v1` / `preview`, the only ones it takes), models listed by name.
 */
const OPENAI_V1 = "/openai/v1";
const OPENAI_V1_CHAT = `${OPENAI_V1}/chat/completions`;
const OPENAI_V1_MODELS = `${OPENAI_V1}/models`;

export interface EmulatorOptions {
  /** The key callers must send as `api-key` or `Authorization: Bearer`; the admin API can change it. */
  key: string;
  /** When set, Bearer tokens of the local identity endpoint for this audience are accepted too. */
  entra?: EntraOptions;
  deployments?: readonly EmulatedDeployment[];
  scenarios: readonly ScenarioRule[];
  timing?: Partial<Timing>;
  limits?: Partial<RateLimits>;
}

/** The system prompt Mistral's safe mode prepends; it counts towards prompt tokens. */
const SAFE_PROMPT =
  "Always assist with care, respect, and truth. Respond with utmost utility yet securely. Avoid harmful, unethical, prejudiced, or negative content. Ensure replies promote fairness and positivity.";

/** Routes of one deployment, below `/{deployment}` or at the root (the Foundry style, `model` picks). */
const CHAT_PATHS = new Set(["/chat/completions", "/models/chat/completions", "/v1/chat/completions", OPENAI_V1_CHAT]);
const INFO_PATHS = new Set(["/info", "/models/info"]);

/**
 * A local stand-in for Mistral deployments on Azure AI that speaks the Azure AI Model Inference API,
 * with an admin API under /_emulator to inject faults and read back what it received.
 */
export class ModelEmulator {
  readonly server: Server;
  readonly faults = new FaultQueue();
  readonly log = new RequestLog();
  readonly #options: EmulatorOptions;
  readonly #deployments: readonly EmulatedDeployment[];
  readonly #limiters = new Map<string, RateLimiter>();
  #timing: Timing;
  #limits: RateLimits;
  #key: string;

  constructor(options: EmulatorOptions) {
    this.#options = options;
    this.#deployments = options.deployments ?? DEFAULT_DEPLOYMENTS;
    this.#timing = this.#initialTiming();
    this.#limits = this.#initialLimits();
    this.#key = options.key;
    this.server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        console.error("emulator: unexpected error", error);
        if (!res.headersSent) sendJson(res, 500, wireError(500, "internal_error", "Emulator failure.").body);
        else res.destroy();
      });
    });
  }

  async listen(port: number, host = "127.0.0.1"): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => resolve());
    });
    const address = this.server.address() as AddressInfo;
    return `http://${host === "0.0.0.0" ? "localhost" : host}:${address.port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  reset(): void {
    this.faults.clear();
    this.log.clear();
    this.#limiters.clear();
    this.#timing = this.#initialTiming();
    this.#limits = this.#initialLimits();
    this.#key = this.#options.key;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://emulator");
    if (url.pathname.startsWith("/_emulator/")) return this.#admin(req, res, url);

    const { deployment, path } = this.#route(url.pathname);
    const isChat = CHAT_PATHS.has(path);
    const isInfo = INFO_PATHS.has(path);
    const isModels = !deployment && (path === OPENAI_V1_MODELS || path.startsWith(`${OPENAI_V1_MODELS}/`));
    if (!isChat && !isInfo && !isModels) return sendWireError(res, wireError(404, "not_found", "Resource not found."));
    if ((isChat && req.method !== "POST") || ((isInfo || isModels) && req.method !== "GET")) {
      return sendWireError(res, wireError(405, "method_not_allowed", `Method ${req.method} is not allowed here.`));
    }

    const log = this.log.record(req.method ?? "GET", url, req.headers);
    res.once("close", () => {
      // The connection closed before the answer ended: the client gave up, or a fault dropped it.
      if (!res.writableFinished) log.outcome.closed_early = true;
    });
    if (!isAuthorized(req.headers, this.#key, this.#options.entra)) {
      log.outcome = { status: 401 };
      return sendWireError(res, wireError(401, "unauthorized", "Access denied due to invalid or missing api key."));
    }
    const apiVersion = url.searchParams.get("api-version");
    const v1 = path.startsWith(`${OPENAI_V1}/`);
    if (apiVersion !== null && !(v1 ? /^(v1|preview)$/ : /^\d{4}-\d{2}-\d{2}(-preview)?$/).test(apiVersion)) {
      log.outcome = { status: 400 };
      return sendWireError(res, wireError(400, "unsupported_api_version", `api-version ${apiVersion} is not supported.`, "api-version"));
    }
    if (isModels) return this.#models(res, path.slice(OPENAI_V1_MODELS.length + 1), log);

    if (isInfo) {
      const asked = url.searchParams.get("model");
      const chosen = deployment ?? (asked === null ? this.#default : findDeployment(this.#deployments, asked));
      if (!chosen) {
        log.outcome = { status: 404 };
        return sendWireError(res, wireError(404, "unknown_model", `The model ${asked} does not exist on this endpoint.`, "model"));
      }
      const fault = this.faults.take(chosen.name, path);
      if (fault && (await this.#applyEarlyFault(res, fault, log))) return;
      log.outcome = { status: 200 };
      return sendJson(res, 200, { model_name: chosen.modelName, model_type: chosen.modelType, model_provider_name: chosen.provider });
    }
    return this.#chat(req, res, deployment, path, log);
  }

  async #chat(req: IncomingMessage, res: ServerResponse, routed: EmulatedDeployment | undefined, path: string, log: LoggedRequest): Promise<void> {
    const text = await readBody(req);
    if (text === undefined) {
      log.outcome = { status: 413 };
      return sendWireError(res, wireError(413, "payload_too_large", "The request body is too large."));
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      log.outcome = { status: 400 };
      return sendWireError(res, wireError(400, "invalid_json", "The request body is not valid JSON."));
    }
    log.body = body;
    const model = (body as { model?: unknown } | null)?.model;
    if (path === OPENAI_V1_CHAT && typeof model !== "string") {
      log.outcome = { status: 400 };
      return sendWireError(res, wireError(400, "missing_model", "model is required: the name of a deployment.", "model"));
    }
    // Below /{deployment} the deployment is fixed; at the root, `model` picks one, as on a Foundry endpoint.
    const named = !routed && typeof model === "string" ? findDeployment(this.#deployments, model) : undefined;
    if (!routed && typeof model === "string" && !named) {
      log.outcome = { status: 404 };
      return sendWireError(res, wireError(404, "unknown_model", `The model ${model} does not exist on this endpoint.`, "model"));
    }
    const deployment = routed ?? named ?? this.#default;

    const fault = this.faults.take(deployment.name, path);
    if (fault && (await this.#applyEarlyFault(res, fault, log))) return;

    const admission = this.#limiter(deployment.name).admit();
    if (!admission.ok) {
      const seconds = Math.ceil(admission.retryAfterMs / 1000);
      log.outcome = { status: 429 };
      return sendWireError(res, {
        ...wireError(429, "429", `Rate limit is exceeded. Try again in ${seconds} seconds.`),
        headers: { "retry-after": String(seconds), "retry-after-ms": String(admission.retryAfterMs) },
      });
    }

    const mode = parseExtraParametersHeader(headerValue(req, "extra-parameters"));
    const request = typeof mode === "string" ? validateChatRequest(body, mode) : mode;
    if ("status" in request) {
      log.outcome = { status: request.status };
      return sendWireError(res, request);
    }
    const reply = generateReply(request, deployment, this.#options.scenarios);
    if ("status" in reply) {
      log.outcome = { status: reply.status };
      return sendWireError(res, reply);
    }

    const safeMode = [request.extras.safe_prompt, request.extras.safe_mode, request.extras.safemode].includes(true);
    const promptTokens = countPromptTokens(request.messages, safeMode ? SAFE_PROMPT : "") + (request.tools.length > 0 ? countJsonTokens(request.tools) : 0);
    const completionTokens = reply.tokens.length + (reply.toolCalls.length > 0 ? countJsonTokens(reply.toolCalls) : 0);
    this.#limiter(deployment.name).charge(admission.spend, promptTokens + completionTokens);

    const closed = new AbortController();
    res.once("close", () => closed.abort());
    const answer: Answer = {
      reply,
      modelName: deployment.modelName,
      usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
      logprobs: request.extras.logprobs === true,
      timing: this.#timing,
      fault,
      log,
      signal: closed.signal,
    };
    return request.stream ? writeStream(res, answer) : writeCompletion(res, answer);
  }

  /** GET /openai/v1/models (every deployment) and /openai/v1/models/{name} (one, or 404), as the v1 API lists them. */
  async #models(res: ServerResponse, name: string, log: LoggedRequest): Promise<void> {
    const describe = (d: EmulatedDeployment) => ({ id: d.name, object: "model", created: 1_735_689_600, owned_by: d.provider });
    if (name === "") {
      log.outcome = { status: 200 };
      return sendJson(res, 200, { object: "list", data: this.#deployments.map(describe) });
    }
    const chosen = this.#deployments.find((d) => d.name === decodeURIComponent(name).toLowerCase());
    // The v1 API's info: a fault queued for `/info` applies here too.
    const fault = chosen ? this.faults.take(chosen.name, "/info") : undefined;
    if (fault && (await this.#applyEarlyFault(res, fault, log))) return;
    if (!chosen) {
      log.outcome = { status: 404 };
      return sendWireError(res, wireError(404, "model_not_found", `The model ${decodeURIComponent(name)} does not exist.`, "model"));
    }
    log.outcome = { status: 200 };
    return sendJson(res, 200, describe(chosen));
  }

  /** Faults that act before the answer starts; returns true when the request is done with. */
  async #applyEarlyFault(res: ServerResponse, fault: Fault, log: LoggedRequest): Promise<boolean> {
    if (fault.delay_ms) await sleep(fault.delay_ms);
    if (fault.no_response) {
      log.outcome = { fault: "no_response" };
      await untilClosed(res);
      return true;
    }
    if (fault.status !== undefined) {
      log.outcome = { status: fault.status, fault: "status" };
      const body = fault.body ?? wireError(fault.status, `http_${fault.status}`, `Injected fault: status ${fault.status}.`).body;
      const headers = fault.headers ?? {};
      const isText = typeof body === "string";
      const text = isText ? body : JSON.stringify(body);
      const type = isText ? (body.trimStart().startsWith("<") ? "text/html" : "text/plain") : "application/json";
      res.writeHead(fault.status, { "content-type": type, ...headers });
      res.end(text);
      return true;
    }
    return false;
  }

  #route(pathname: string): { deployment: EmulatedDeployment | undefined; path: string } {
    const [, first = "", ...rest] = pathname.split("/");
    const deployment = this.#deployments.find((d) => d.name === first.toLowerCase());
    return deployment ? { deployment, path: `/${rest.join("/")}` } : { deployment: undefined, path: pathname };
  }

  get #default(): EmulatedDeployment {
    return this.#deployments[0] as EmulatedDeployment;
  }

  #limiter(name: string): RateLimiter {
    let limiter = this.#limiters.get(name);
    if (!limiter) {
      limiter = new RateLimiter(this.#limits);
      this.#limiters.set(name, limiter);
    }
    limiter.limits = this.#limits;
    return limiter;
  }

  #initialTiming(): Timing {
    return { ttftMs: this.#options.timing?.ttftMs ?? 0, tokenDelayMs: this.#options.timing?.tokenDelayMs ?? 0 };
  }

  #initialLimits(): RateLimits {
    return { ...AZURE_SERVERLESS_LIMITS, ...this.#options.limits };
  }

  async #admin(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const route = `${req.method} ${url.pathname}`;
    switch (route) {
      case "GET /_emulator/health":
        return sendJson(res, 200, { status: "ok", deployments: this.#deployments.map((d) => d.name) });
      case "GET /_emulator/requests":
        return sendJson(res, 200, { requests: this.log.entries() });
      case "POST /_emulator/reset":
        this.reset();
        res.writeHead(204).end();
        return;
      case "POST /_emulator/faults": {
        const body = parseJson(await readBody(req));
        const problems = faultProblems(body);
        if (problems.length > 0) return sendJson(res, 400, { error: { code: "invalid_faults", message: problems.join("; ") } });
        this.faults.add((body as { faults: Fault[] }).faults);
        return sendJson(res, 201, { queued: this.faults.pending });
      }
      case "GET /_emulator/settings":
        return sendJson(res, 200, this.#settings());
      case "POST /_emulator/settings": {
        const body = parseJson(await readBody(req)) as Record<string, unknown> | undefined;
        const problems = settingsProblems(body);
        if (problems.length > 0) return sendJson(res, 400, { error: { code: "invalid_settings", message: problems.join("; ") } });
        const { key, ...numbers } = body as Record<string, unknown>;
        const s = numbers as Record<string, number>;
        // A new key takes effect at once: the old one fails from the next request on, as after a rotation.
        if (typeof key === "string" && key !== REDACTED) this.#key = key;
        this.#timing = { ttftMs: s.ttft_ms ?? this.#timing.ttftMs, tokenDelayMs: s.token_delay_ms ?? this.#timing.tokenDelayMs };
        this.#limits = {
          requestsPerMinute: s.requests_per_minute ?? this.#limits.requestsPerMinute,
          tokensPerMinute: s.tokens_per_minute ?? this.#limits.tokensPerMinute,
        };
        return sendJson(res, 200, this.#settings());
      }
      default:
        return sendJson(res, 404, { error: { code: "not_found", message: `No admin route ${route}.` } });
    }
  }

  #settings() {
    return {
      ttft_ms: this.#timing.ttftMs,
      token_delay_ms: this.#timing.tokenDelayMs,
      requests_per_minute: this.#limits.requestsPerMinute,
      tokens_per_minute: this.#limits.tokensPerMinute,
      key: REDACTED,
    };
  }
}

/** GET shows the key as this; posting it back leaves the key as it is, so a read-modify-write keeps working. */
const REDACTED = "[redacted]";
const SETTINGS = ["ttft_ms", "token_delay_ms", "requests_per_minute", "tokens_per_minute", "key"];

function settingsProblems(body: Record<string, unknown> | undefined): string[] {
  if (!body || typeof body !== "object") return ["body must be a JSON object"];
  return Object.entries(body).flatMap(([key, value]) => {
    if (!SETTINGS.includes(key)) return [`${key} is not a setting (${SETTINGS.join(", ")})`];
    if (key === "key") return typeof value === "string" && value !== "" ? [] : ["key must be a non-empty string"];
    return Number.isInteger(value) && (value as number) >= 0 ? [] : [`${key} must be an integer >= 0`];
  });
}

function parseJson(text: string | undefined): unknown {
  try {
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
