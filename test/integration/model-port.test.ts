import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { inspect } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Secret } from "../../src/config/index.js";
import { DeploymentPort } from "../../src/inference/deployment-port.js";
import { ModelError } from "../../src/inference/index.js";
import { UndiciHttpClient } from "../../src/inference/undici-http-client.js";
import { postJson, seed, startEmulator } from "../support/emulator.js";

/**
 * The model seam against the emulator, once for each model API (the Model Inference API through
 * @azure-rest/ai-inference, Foundry's OpenAI v1 API through the `openai` client): the same answers,
 * streams, and every failure as the same safe, typed ModelError.
 */
const CANARY_KEY = "canary-key-7f3a9c1e5b";
let emulator: Awaited<ReturnType<typeof startEmulator>>;
// The transport the app runs with.
const httpClient = new UndiciHttpClient({ outerTimeoutMs: 30_000 });

beforeAll(async () => {
  emulator = await startEmulator({ key: CANARY_KEY });
});
afterAll(async () => {
  await httpClient.close();
  await emulator.close();
});
beforeEach(() => emulator.emulator.reset());

type Api = "model-inference" | "openai-v1";
const APIS: readonly Api[] = ["model-inference", "openai-v1"];

/** The deployment as each API names it: below `/{alias}` with its model name, or below `/openai/v1` by its own name. */
function deploymentConfig(api: Api, options: { alias?: string; key?: string; endpoint?: string; base?: string } = {}) {
  const alias = options.alias ?? "mistral-large";
  const base = options.base ?? emulator.url;
  return {
    alias,
    endpoint: options.endpoint ?? (api === "openai-v1" ? `${base}/openai/v1` : `${base}/${alias}`),
    model: api === "openai-v1" ? alias : alias === "mistral-large" ? "Mistral-Large" : "Mistral-Small",
    api,
    apiVersion: "2025-04-01",
    credential: { kind: "key" as const, key: new Secret(options.key ?? CANARY_KEY) },
  };
}

function portFor(api: Api, options: { alias?: string; timeoutMs?: number; key?: string; endpoint?: string; maxTokens?: number } = {}) {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new DeploymentPort({
    deployment: deploymentConfig(api, options),
    timeouts: { attemptMs: timeoutMs, idleMs: timeoutMs },
    httpClient,
    ...(options.maxTokens !== undefined ? { maxTokens: options.maxTokens } : {}),
  });
}

const fault = (...faults: unknown[]) => postJson(`${emulator.url}/_emulator/faults`, { faults });

async function failure(promise: Promise<unknown>): Promise<ModelError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ModelError);
    const text = `${(error as Error).message} ${JSON.stringify(error)} ${inspect(error)}`;
    expect(text).not.toContain(CANARY_KEY);
    expect(text).not.toContain(emulator.url.replace("http://", ""));
    return error as ModelError;
  }
  throw new Error("expected the call to fail");
}

async function collect(iterable: AsyncIterable<{ choices: Array<{ delta: { content?: string | null } }> }>): Promise<string> {
  let text = "";
  for await (const chunk of iterable) text += chunk.choices[0]?.delta.content ?? "";
  return text;
}

describe.each(APIS)("%s", (api) => {
  const port = (options: Parameters<typeof portFor>[1] = {}) => portFor(api, options);
  describe("DeploymentPort.complete", () => {
    it("returns the completion, sending the configured model name and api-version", async () => {
      const completion = await port().complete(seed("chat.request"));
      expect(completion.choices[0]?.message.content).toBe(seed("chat.response").choices[0].message.content);
      const [request] = emulator.emulator.log.entries();
      if (api === "openai-v1") {
        expect(request?.path).toBe("/openai/v1/chat/completions");
        expect(request?.body).toMatchObject({ model: "mistral-large", stream: false });
        expect(request?.query["api-version"]).toBeUndefined();
      } else {
        expect(request?.path).toBe("/mistral-large/chat/completions");
        expect(request?.body).toMatchObject({ model: "Mistral-Large", stream: false });
        expect(request?.query["api-version"]).toBe("2025-04-01");
      }
    });

    it("sends its max_tokens ceiling when the request has none, and the request's own otherwise", async () => {
      await port({ maxTokens: 100 }).complete(seed("chat.request"));
      await port({ maxTokens: 100 }).complete({ ...seed("chat.request"), max_tokens: 7 });
      expect(emulator.emulator.log.entries().map((e) => (e.body as { max_tokens?: number }).max_tokens)).toEqual([100, 7]);
    });

    it("sends the extra-parameters header when asked", async () => {
      const completion = await port().complete(seed("extra-parameters.request"), { extraParameters: "pass-through" });
      expect(completion.choices[0]?.logprobs).toBeTruthy();
      expect(emulator.emulator.log.entries()[0]?.headers["extra-parameters"]).toBe("pass-through");
    });

    it("keeps the upstream's status, code, message and param", async () => {
      const error = await failure(port().complete(seed("content-filter.request")));
      expect(error).toMatchObject({
        kind: "upstream",
        status: 400,
        code: "content_filter",
        param: "prompt",
        message: seed("content-filter.response").error.message,
      });
    });

    it("reports a wrong key as the upstream's 401", async () => {
      const error = await failure(port({ key: "wrong-key" }).complete(seed("chat.request")));
      expect(error).toMatchObject({ kind: "upstream", status: 401, code: "unauthorized" });
    });

    it("reads Retry-After and retry-after-ms of a 429", async () => {
      await fault({ status: 429, headers: { "retry-after": "7" } }, { status: 429, headers: { "retry-after-ms": "1500", "retry-after": "2" } });
      expect((await failure(port().complete(seed("chat.request")))).retryAfterMs).toBe(7000);
      expect((await failure(port().complete(seed("chat.request")))).retryAfterMs).toBe(1500);
    });

    it("drops URLs and our key from upstream messages", async () => {
      await fault({ status: 500, body: { error: { code: "boom", message: `failed calling https://internal.example/x?key=${CANARY_KEY} now` } } });
      const error = await failure(port().complete(seed("chat.request")));
      expect(error.message).toBe("failed calling [url] now");
    });

    it("refuses a 200 answer that is not JSON", async () => {
      await fault({ malformed_chunk: true });
      expect(await failure(port().complete(seed("chat.request")))).toMatchObject({ kind: "protocol", status: 502, code: "bad_upstream_response" });
    });

    it("refuses an HTML error page and an answer without choices", async () => {
      await fault({ status: 502, body: "<html><body>Bad Gateway</body></html>" }, { status: 200, body: { id: "x", object: "chat.completion" } });
      expect(await failure(port().complete(seed("chat.request")))).toMatchObject({ kind: "upstream", status: 502, code: "bad_gateway" });
      expect(await failure(port().complete(seed("chat.request")))).toMatchObject({ kind: "protocol", status: 502, code: "bad_upstream_response" });
    });

    it("times out a model that never answers, aborting the upstream request", async () => {
      await fault({ no_response: true });
      const error = await failure(port({ timeoutMs: 1_000 }).complete(seed("chat.request")));
      expect(error).toMatchObject({ kind: "timeout", status: 504, code: "upstream_timeout" });
      await expect.poll(() => emulator.emulator.log.entries()[0]?.outcome).toEqual({ fault: "no_response", closed_early: true });
    });

    it("stops when the caller's signal aborts", async () => {
      await fault({ no_response: true });
      const controller = new AbortController();
      const call = port().complete(seed("chat.request"), { signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      expect(await failure(call)).toMatchObject({ kind: "aborted", code: "aborted" });
    });

    it("reports an endpoint nobody listens on as unreachable, without its address", async () => {
      // A port that was free a moment ago (not a well-known one: fetch refuses those without connecting).
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
      const { port: free } = closed.address() as AddressInfo;
      await new Promise((resolve) => closed.close(resolve));
      const base = `http://127.0.0.1:${free}`;
      const error = await failure(port({ endpoint: api === "openai-v1" ? `${base}/openai/v1` : `${base}/mistral-large` }).complete(seed("chat.request")));
      expect(error).toMatchObject({ kind: "network", status: 502, code: "upstream_unreachable", message: "The model endpoint could not be reached." });
      expect(error.message).not.toContain("127.0.0.1");
    });
  });

  describe("DeploymentPort.stream", () => {
    it("yields the chunks up to [DONE], the last with usage", async () => {
      const chunks = [];
      for await (const chunk of await port().stream(seed("chat.request"))) chunks.push(chunk);
      expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe(seed("chat.response").choices[0].message.content);
      expect(chunks.at(-1)?.usage?.total_tokens).toBeGreaterThan(0);
      expect(emulator.emulator.log.entries()[0]?.body).toMatchObject({ stream: true });
    });

    it("fails before the first chunk with the upstream's error, so it can still be a plain HTTP error", async () => {
      await fault({ status: 503, headers: { "retry-after": "3" } });
      const error = await failure(port().stream(seed("chat.request")));
      expect(error).toMatchObject({ kind: "upstream", status: 503, retryAfterMs: 3000 });
    });

    it("fails mid-stream when the connection resets", async () => {
      await fault({ reset_after_chunks: 3 });
      const stream = await port().stream(seed("chat.request"));
      const error = await failure(collect(stream));
      expect(error).toMatchObject({ kind: "network", code: "upstream_stream_broken" });
    });

    it("times out a stream that stalls", async () => {
      await fault({ stall_after_chunks: 2 });
      const stream = await port({ timeoutMs: 1_000 }).stream(seed("chat.request"));
      expect(await failure(collect(stream))).toMatchObject({ kind: "timeout", code: "upstream_timeout" });
    });

    it("refuses a chunk that is not JSON, and a stream that ends without [DONE]", async () => {
      await fault({ malformed_chunk: 2 }, { omit_done: true });
      expect(await failure(collect(await port().stream(seed("chat.request"))))).toMatchObject({ kind: "protocol", code: "bad_upstream_response" });
      expect(await failure(collect(await port().stream(seed("chat.request"))))).toMatchObject({ code: "upstream_stream_incomplete" });
    });

    it("passes chunks with empty choices on to the caller, who decides what to do with them", async () => {
      await fault({ empty_choices_chunk: true });
      const chunks = [];
      for await (const chunk of await port().stream(seed("chat.request"))) chunks.push(chunk);
      expect(chunks[0]?.choices).toEqual([]);
    });

    it("releases the upstream connection when the caller stops reading early", async () => {
      await postJson(`${emulator.url}/_emulator/settings`, { token_delay_ms: 20 });
      const stream = await port().stream(seed("chat.request"));
      for await (const _chunk of stream) break;
      await expect.poll(() => emulator.emulator.log.entries()[0]?.outcome.closed_early).toBe(true);
    });

    it("releases the upstream connection when the caller drops the stream before reading it", async () => {
      await postJson(`${emulator.url}/_emulator/settings`, { token_delay_ms: 20 });
      const stream = (await port().stream(seed("chat.request")))[Symbol.asyncIterator]();
      await stream.return?.();
      await expect.poll(() => emulator.emulator.log.entries()[0]?.outcome.closed_early).toBe(true);
      expect(emulator.emulator.log.entries()[0]?.outcome.done).toBeUndefined();
    });
  });

  /**
   * A model that streams one chunk and [DONE], then ends its response as `finish` says; it counts the
   * connections it accepts and keeps each response so a test can see whether it is still open.
   */
  async function sseModel(finish: (res: ServerResponse) => void) {
    const responses: ServerResponse[] = [];
    let connections = 0;
    const server: Server = createServer((req, res) => {
      req.resume();
      responses.push(res);
      res.writeHead(200, { "content-type": "text/event-stream" });
      const chunk = {
        id: "c1",
        object: "chat.completion.chunk",
        created: 1,
        model: "Mistral-Large",
        choices: [{ index: 0, delta: { content: "hi" }, finish_reason: "stop" }],
      };
      res.write(`data: ${JSON.stringify(chunk)}\n\ndata: [DONE]\n\n`);
      finish(res);
    });
    server.on("connection", () => connections++);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
      base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      responses,
      connections: () => connections,
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  }

  describe("DeploymentPort.stream after [DONE]", () => {
    it("reads the response to its end, so the next call reuses the connection", async () => {
      // The end of the response comes a moment after [DONE]: cancelling at [DONE] would close the socket.
      const model = await sseModel((res) => setTimeout(() => res.end(), 50));
      const client = new UndiciHttpClient({ outerTimeoutMs: 30_000 });
      try {
        const own = new DeploymentPort({
          deployment: deploymentConfig(api, { base: model.base }),
          timeouts: { attemptMs: 10_000, idleMs: 10_000 },
          httpClient: client,
        });
        for (let i = 0; i < 3; i++) {
          expect(await collect(await own.stream(seed("chat.request")))).toBe("hi");
          // The next call comes once this response has ended (and the client has had time to read
          // its end): before that its connection is busy, and a second one would be right.
          await expect.poll(() => model.responses[i]?.writableFinished).toBe(true);
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        expect(model.responses).toHaveLength(3);
        expect(model.connections()).toBe(1);
      } finally {
        await client.close();
        await model.close();
      }
    });

    it("ends the caller's stream at [DONE] even when the response stays open, and cuts it off after the idle timeout", async () => {
      const model = await sseModel(() => undefined);
      const client = new UndiciHttpClient({ outerTimeoutMs: 30_000 });
      try {
        const own = new DeploymentPort({
          deployment: deploymentConfig(api, { base: model.base }),
          timeouts: { attemptMs: 1_000, idleMs: 1_000 },
          httpClient: client,
        });
        expect(await collect(await own.stream(seed("chat.request")))).toBe("hi");
        const [response] = model.responses;
        expect(response?.destroyed).toBe(false);
        await expect.poll(() => response?.destroyed, { timeout: 5_000 }).toBe(true);
      } finally {
        await client.close();
        await model.close();
      }
    });
  });

  describe("DeploymentPort.info", () => {
    it("returns exactly the three fields of /info (the v1 API's model, in those words)", async () => {
      expect(await port({ alias: "mistral-small" }).info()).toEqual(
        api === "openai-v1"
          ? { model_name: "mistral-small", model_type: "chat-completions", model_provider_name: "MistralAI" }
          : { model_name: "Mistral-Small", model_type: "chat-completions", model_provider_name: "MistralAI" },
      );
      expect(emulator.emulator.log.entries().at(-1)?.path).toBe(api === "openai-v1" ? "/openai/v1/models/mistral-small" : "/mistral-small/info");
    });

    // Skipped for openai-v1 by design: a shared `/models` endpoint that needs `?model=` for its info is the
    // Model Inference API's alone; the v1 API names the deployment in the path (the test above).
    it.runIf(api === "model-inference")("asks a Foundry-style endpoint, which serves every deployment at /models, for this deployment's info", async () => {
      const shared = await port({ alias: "mistral-small", endpoint: `${emulator.url}/models` }).info();
      expect(shared.model_name).toBe("Mistral-Small");
      expect(emulator.emulator.log.entries().at(-1)?.query).toMatchObject({ model: "Mistral-Small" });
    });

    it("reports a deployment the endpoint does not have as the upstream's 404", async () => {
      const endpoint = api === "openai-v1" ? `${emulator.url}/openai/v1` : `${emulator.url}/models`;
      const own = new DeploymentPort({
        deployment: { ...deploymentConfig(api, { endpoint }), model: "no-such-model" },
        timeouts: { attemptMs: 5_000, idleMs: 5_000 },
        httpClient,
      });
      expect(await failure(own.complete(seed("chat.request")))).toMatchObject({ kind: "upstream", status: 404 });
      expect(await failure(own.info())).toMatchObject({ kind: "upstream", status: 404 });
    });

    it("refuses a malformed /info answer", async () => {
      await fault({ match: { path: "/info" }, status: 200, body: { model: "x" } });
      expect(await failure(port().info())).toMatchObject({ code: "bad_upstream_response" });
    });
  });
});
