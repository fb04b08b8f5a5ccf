/**
 * Records the model emulator's streamed answers as fixtures for the in-process tests' fake model
 * (test/support/fake-model.ts): test/fixtures/streams/<name>.json holds the request sent, each `data:`
 * chunk as parsed JSON in order, whether `data: [DONE]` came, and (for `stall`) `stalled: true`.
 *
 * Re-record (after a change to dev/emulator/ that changes what it streams) from the repository root:
 *
 *   npx tsc -p test/support/tsconfig.record-streams.json && node dist/test/support/record-streams.js
 *
 * (the tsconfig extends the project's own and compiles this file with what it imports into dist/,
 * as `npm run build` does for src/ and dev/). It starts the emulator in-process on a free port, talks
 * to it over real HTTP, and rewrites every fixture; ids and `created` change on every recording.
 *
 * The recordings:
 * - `text`: a plain answer (the emulator's default text: "This is an emulated answer from ...").
 * - `tool-call`: the seed's flight question with its `get_flight_info` tool (seed/tools.request.json):
 *   one chunk carries the whole call, without `index`, as Mistral on Azure sends it.
 * - `after-tool`: the answer once that call's result is in the conversation.
 * - `content-filter`: an answer content safety cuts off (`finish_reason: "content_filter"`, the
 *   emulator's "emulator: filter the answer" scenario). The seed's own filtered prompt
 *   (seed/content-filter.request.json) gets a 400 `content_filter` before any stream starts; the
 *   fake model plays that as `{ fail: ModelError }` built from seed/content-filter.response.json.
 * - `stall`: the `text` request with the admin fault `stall_after_chunks: 3`: the chunks before the
 *   stall, `done: false`, `stalled: true`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { EMULATOR_KEY, startEmulator } from "./emulator.js";

/** The stream's shape as saved. */
export interface RecordedStream {
  name: string;
  /** How to re-record it. */
  recordedBy: string;
  /** What was sent: `POST /<deployment>/chat/completions` with this body. */
  deployment: string;
  request: Record<string, unknown>;
  /** Each `data:` payload but `[DONE]`, parsed. */
  chunks: Array<Record<string, unknown>>;
  /** `data: [DONE]` ended the stream. */
  done: boolean;
  /** The stream went silent after these chunks without ending (an injected stall). */
  stalled?: boolean;
}

/** One stream as read, before it is named. */
type Recording = Omit<RecordedStream, "name" | "recordedBy">;

/** Silence this long after the emulator (with no pacing) has sent a frame means it stalled. */
const STALL_QUIET_MS = 500;
const DEPLOYMENT = "mistral-large";
const RECORDED_BY = "test/support/record-streams.ts, from the model emulator (dev/emulator); see its header to re-record";

/** The repository root: the first folder above this file with the project's package.json (works from dist/ too). */
function repoRoot(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "mistral-functions") return dir;
    if (dirname(dir) === dir) throw new Error(`no mistral-functions package.json above ${__dirname}`);
  }
}

function seed(root: string, name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(root, "test", "fixtures", "seed", `${name}.json`), "utf8")) as Record<string, unknown>;
}

/** Posts a streamed chat request and reads its frames until [DONE], the end, or a stall. */
async function streamOnce(url: string, request: Record<string, unknown>): Promise<Recording> {
  const controller = new AbortController();
  const response = await fetch(`${url}/${DEPLOYMENT}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "api-key": EMULATOR_KEY },
    body: JSON.stringify(request),
    signal: controller.signal,
  });
  if (response.status !== 200 || !response.headers.get("content-type")?.startsWith("text/event-stream")) {
    throw new Error(`expected an event stream, got ${response.status}: ${await response.text()}`);
  }
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const chunks: Array<Record<string, unknown>> = [];
  let buffer = "";
  let done = false;
  let stalled = false;
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    const quiet = new Promise<"quiet">((resolve) => {
      timer = setTimeout(() => resolve("quiet"), STALL_QUIET_MS);
    });
    const read = await Promise.race([reader.read(), quiet]).finally(() => clearTimeout(timer));
    if (read === "quiet") {
      stalled = true;
      controller.abort();
      await reader.cancel().catch(() => undefined);
      break;
    }
    if (read.done) break;
    buffer += decoder.decode(read.value, { stream: true });
    for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      for (const line of frame.split("\n")) {
        if (!line.startsWith("data:")) continue;
        const data = line.slice("data:".length).trim();
        if (data === "[DONE]") done = true;
        else chunks.push(JSON.parse(data) as Record<string, unknown>);
      }
    }
  }
  if (buffer.trim() !== "") throw new Error(`the stream ended inside a frame: ${JSON.stringify(buffer)}`);
  return { deployment: DEPLOYMENT, request, chunks, done, ...(stalled ? { stalled } : {}) };
}

/** The assistant's tool calls in a recorded stream, as the next request replays them. */
function toolCallsOf(recorded: Recording): unknown[] {
  for (const chunk of recorded.chunks) {
    const choices = chunk.choices as Array<{ delta?: { tool_calls?: unknown[] | null } }>;
    const calls = choices[0]?.delta?.tool_calls;
    if (calls && calls.length > 0) return calls;
  }
  throw new Error("the tool-call stream holds no tool call");
}

/** Valid JSON, one line per field and per chunk, so a re-recording diffs chunk by chunk. */
function fixtureText(recording: RecordedStream): string {
  const fields = Object.entries(recording).map(([key, value]) =>
    key === "chunks"
      ? `  "chunks": [\n${recording.chunks.map((chunk) => `    ${JSON.stringify(chunk)}`).join(",\n")}\n  ]`
      : `  ${JSON.stringify(key)}: ${JSON.stringify(value)}`,
  );
  return `{\n${fields.join(",\n")}\n}\n`;
}

export async function recordStreams(outDir?: string): Promise<RecordedStream[]> {
  const root = repoRoot();
  const out = outDir ?? join(root, "test", "fixtures", "streams");
  const { emulator, url, close } = await startEmulator();
  try {
    const recordings: RecordedStream[] = [];
    const record = async (name: string, request: Record<string, unknown>, check: (recorded: Recording) => string | undefined) => {
      const recorded = await streamOnce(url, request);
      const problem = check(recorded);
      if (problem) throw new Error(`${name}: ${problem}`);
      recordings.push({ name, recordedBy: RECORDED_BY, ...recorded });
      return recorded;
    };
    const finish = (recorded: Recording) => {
      const last = recorded.chunks.at(-1) as { choices?: Array<{ finish_reason?: string | null }> } | undefined;
      return last?.choices?.[0]?.finish_reason;
    };

    const plain = { messages: [{ role: "user", content: "Say hello." }], stream: true };
    await record("text", plain, (r) => (r.done && finish(r) === "stop" ? undefined : "expected a whole answer that stops"));

    const tools: Record<string, unknown> = { ...seed(root, "tools.request"), stream: true };
    const toolCall = await record("tool-call", tools, (r) => (r.done && finish(r) === "tool_calls" ? undefined : "expected finish_reason tool_calls"));

    const [call] = toolCallsOf(toolCall) as Array<{ id: string; function: { name: string; arguments: string } }>;
    const args = JSON.parse(call?.function.arguments ?? "{}") as { origin_city?: string; destination_city?: string };
    const afterTool = {
      ...tools,
      messages: [
        ...(tools.messages as unknown[]),
        { role: "assistant", content: "", tool_calls: toolCallsOf(toolCall) },
        {
          role: "tool",
          tool_call_id: call?.id,
          // What the app's own get_flight_info answers (src/tools/get-flight-info.ts).
          content: JSON.stringify({
            info: `There are no flights available from ${args.origin_city} to ${args.destination_city}. You should take a train, specially if it helps to reduce CO2 emissions.`,
          }),
        },
      ],
    };
    await record("after-tool", afterTool, (r) => (r.done && finish(r) === "stop" ? undefined : "expected a text answer after the tool result"));

    const filtered = { messages: [{ role: "user", content: "emulator: filter the answer" }], stream: true };
    await record("content-filter", filtered, (r) => (r.done && finish(r) === "content_filter" ? undefined : "expected finish_reason content_filter"));

    const queued = await fetch(`${url}/_emulator/faults`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ faults: [{ stall_after_chunks: 3 }] }),
    });
    if (queued.status !== 201) throw new Error(`the stall fault was refused: ${queued.status} ${await queued.text()}`);
    await record("stall", plain, (r) =>
      r.stalled && !r.done && r.chunks.length === 3 ? undefined : `expected 3 chunks then a stall, got ${r.chunks.length} (done ${r.done})`,
    );
    const outcome = emulator.log.entries().at(-1)?.outcome as { fault?: string } | undefined;
    if (outcome?.fault !== "stall") throw new Error(`the emulator did not log the stall: ${JSON.stringify(outcome)}`);

    mkdirSync(out, { recursive: true });
    for (const recording of recordings) {
      writeFileSync(join(out, `${recording.name}.json`), fixtureText(recording));
    }
    return recordings;
  } finally {
    await close();
  }
}

if (require.main === module) {
  recordStreams().then(
    (recordings) => {
      for (const r of recordings) console.log(`${r.name}: ${r.chunks.length} chunks${r.done ? ", [DONE]" : ""}${r.stalled ? ", stalled" : ""}`);
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
