import { request } from "node:http";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { postJson, seed, sseData, startEmulator } from "../support/emulator.js";

/** The emulator's admin API: faults injected per request, and the log of what it received. */
let emulator: Awaited<ReturnType<typeof startEmulator>>;
let large: string;

beforeAll(async () => {
  emulator = await startEmulator();
  large = `${emulator.url}/mistral-large`;
});
afterAll(() => emulator.close());
beforeEach(() => emulator.emulator.reset());

const fault = (...faults: unknown[]) => postJson(`${emulator.url}/_emulator/faults`, { faults });
const stream = () => postJson(`${large}/chat/completions`, { ...seed("chat.request"), stream: true });

/** Reads a raw HTTP response, reporting whether the connection was reset before it ended. */
function rawPost(url: string, body: unknown, timeoutMs = 2_000): Promise<{ status?: number; text: string; error?: string }> {
  return new Promise((resolve) => {
    let text = "";
    let status: number | undefined;
    const req = request(url, { method: "POST", headers: { "api-key": "emulator-key", "content-type": "application/json" }, timeout: timeoutMs }, (res) => {
      status = res.statusCode;
      res.on("data", (d: Buffer) => (text += d.toString()));
      res.on("end", () => resolve({ status, text }));
      res.on("error", (e) => resolve({ status, text, error: (e as NodeJS.ErrnoException).code ?? e.message }));
    });
    req.on("timeout", () => {
      req.destroy();
      resolve({ status, text, error: "timeout" });
    });
    req.on("error", (e) => resolve({ status, text, error: (e as NodeJS.ErrnoException).code ?? e.message }));
    req.end(JSON.stringify(body));
  });
}

describe("faults", () => {
  it("answers with an injected status, headers and body, for the next `times` matching requests only", async () => {
    await fault({ match: { deployment: "mistral-large" }, times: 2, status: 503, headers: { "retry-after": "2" } });
    const small = await postJson(`${emulator.url}/mistral-small/chat/completions`, seed("chat.request"));
    expect(small.status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const { status, response, json } = await postJson(`${large}/chat/completions`, seed("chat.request"));
      expect(status).toBe(503);
      expect(response.headers.get("retry-after")).toBe("2");
      expect(json.error.code).toBe("http_503");
    }
    expect((await postJson(`${large}/chat/completions`, seed("chat.request"))).status).toBe(200);
  });

  it("applies faults in the order they were queued, and can match a path", async () => {
    await fault({ match: { path: "/info" }, status: 500 }, { status: 502, body: "<html>Bad Gateway</html>" }, { status: 401 });
    const gateway = await postJson(`${large}/chat/completions`, seed("chat.request"));
    expect(gateway.status).toBe(502);
    expect(gateway.response.headers.get("content-type")).toBe("text/html");
    expect(gateway.text).toBe("<html>Bad Gateway</html>");
    expect((await postJson(`${large}/chat/completions`, seed("chat.request"))).status).toBe(401);
    expect((await fetch(`${large}/info`, { headers: { "api-key": "emulator-key" } })).status).toBe(500);
  });

  it("keeps faults without a path for chat completions: /info does not use them up", async () => {
    await fault({ stall_after_chunks: 1 });
    expect((await fetch(`${large}/info`, { headers: { "api-key": "emulator-key" } })).status).toBe(200);
    expect(emulator.emulator.faults.pending).toBe(1);
  });

  it("delays the answer by delay_ms", async () => {
    await fault({ delay_ms: 300 });
    const started = Date.now();
    expect((await postJson(`${large}/chat/completions`, seed("chat.request"))).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it("never answers with no_response", async () => {
    await fault({ no_response: true });
    const result = await rawPost(`${large}/chat/completions`, seed("chat.request"), 300);
    expect(result).toEqual({ status: undefined, text: "", error: "timeout" });
  });

  it("resets the connection after N stream frames", async () => {
    await fault({ reset_after_chunks: 2 });
    const result = await rawPost(`${large}/chat/completions`, { ...seed("chat.request"), stream: true });
    expect(result.status).toBe(200);
    expect(result.error).toMatch(/ECONNRESET|aborted/);
    expect(result.text.split("\n\n").filter((f) => f.startsWith("data: "))).toHaveLength(2);
  });

  it("stalls after N stream frames, holding the connection open", async () => {
    await fault({ stall_after_chunks: 1 });
    const result = await rawPost(`${large}/chat/completions`, { ...seed("chat.request"), stream: true }, 400);
    expect(result.status).toBe(200);
    expect(result.error).toBe("timeout");
    expect(result.text.split("\n\n").filter((f) => f.startsWith("data: "))).toHaveLength(1);
  });

  it("sends a frame that is not JSON with malformed_chunk", async () => {
    await fault({ malformed_chunk: 1 });
    const frames = sseData((await stream()).text);
    expect(() => JSON.parse(frames[0] as string)).not.toThrow();
    expect(() => JSON.parse(frames[1] as string)).toThrow();
  });

  it("cuts a JSON answer short with malformed_chunk", async () => {
    await fault({ malformed_chunk: true });
    const { status, text } = await postJson(`${large}/chat/completions`, seed("chat.request"));
    expect(status).toBe(200);
    expect(() => JSON.parse(text)).toThrow();
  });

  it("sends a first chunk with empty choices, as content-filter results come", async () => {
    await fault({ empty_choices_chunk: true });
    const chunks = sseData((await stream()).text)
      .slice(0, -1)
      .map((d) => JSON.parse(d));
    expect(chunks[0].choices).toEqual([]);
    expect(chunks[1].choices[0].delta.role).toBe("assistant");
  });

  it("ends the stream without [DONE] with omit_done", async () => {
    await fault({ omit_done: true });
    const frames = sseData((await stream()).text);
    expect(frames).not.toContain("[DONE]");
    expect(JSON.parse(frames.at(-1) as string).usage).toBeDefined();
  });

  it("refuses unknown fault fields", async () => {
    const { status, json } = await fault({ explode: true });
    expect(status).toBe(400);
    expect(json.error.message).toContain("faults[0].explode is not a known fault field");
  });
});

describe("request log", () => {
  it("records what it received with keys redacted, and the outcome", async () => {
    await postJson(`${large}/chat/completions?api-version=2024-05-01-preview`, seed("chat.request"), { authorization: "Bearer emulator-key" });
    await fault({ status: 429 });
    await postJson(`${large}/chat/completions`, seed("chat.request"));
    const { json } = await postJson(`${emulator.url}/_emulator/requests`, undefined)
      .then(() => fetch(`${emulator.url}/_emulator/requests`))
      .then(async (r) => ({ json: (await r.json()) as any }));
    const [first, second] = json.requests;
    expect(first).toMatchObject({
      method: "POST",
      path: "/mistral-large/chat/completions",
      query: { "api-version": "2024-05-01-preview" },
      body: seed("chat.request"),
      outcome: { status: 200 },
    });
    expect(first.headers["api-key"]).toBe("[redacted]");
    expect(first.headers.authorization).toBe("[redacted]");
    expect(JSON.stringify(json)).not.toContain("emulator-key");
    expect(Date.parse(first.time)).not.toBeNaN();
    expect(second.outcome).toEqual({ status: 429, fault: "status" });
  });

  it("is cleared by reset, with faults and settings", async () => {
    await postJson(`${emulator.url}/_emulator/settings`, { ttft_ms: 5 });
    await fault({ status: 500 });
    await postJson(`${emulator.url}/_emulator/reset`, {});
    expect(((await (await fetch(`${emulator.url}/_emulator/requests`)).json()) as any).requests).toEqual([]);
    expect((await postJson(`${large}/chat/completions`, seed("chat.request"))).status).toBe(200);
    expect(((await (await fetch(`${emulator.url}/_emulator/settings`)).json()) as any).ttft_ms).toBe(0);
  });
});
