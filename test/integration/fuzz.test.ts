import { once } from "node:events";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { seed } from "../support/emulator.js";
import {
  answerProblems,
  bodyText,
  cloneValue,
  Deep,
  type ErrorShape,
  type FuzzRequest,
  HealthProbe,
  isEmulatorFailure,
  Long,
  longOfBytes,
  send,
  setAt,
} from "../support/fuzz.js";
import { settingsFor, startHost, useOwnApp } from "../support/host.js";

/**
 * Property-based fuzzing of every route over real HTTP, against a host and an emulator of this file's
 * own: thousands of mostly-valid bodies with one or two fields made hostile, hostile JSON Schemas,
 * odd tool conversations, drop-in bodies with every number wrong, and random headers. For every
 * answer: never a 500, no 5xx but those an upstream problem gives, never internal_error, always
 * x-request-id, and an error body of the route's shape; streams end with exactly one terminal event.
 * The host must survive, and its event loop must keep answering GET /api/health promptly.
 *
 * A property run is a batch of 1 to CONCURRENCY requests sent at once, so fast-check shrinks a
 * failure towards the request that causes it. Two limits of that shrinking: it drops a batch's
 * requests from the front, so a crash's counterexample may keep a bystander after the culprit; and
 * a backtracking regex runs faster once V8 has compiled it to machine code, so a stall may not
 * repeat while shrinking. A host that dies or hangs is restarted (and that reported), so one crash
 * does not hide the rest of the run's findings.
 *
 * FUZZ_SEED=<n> explores other inputs; FUZZ_SURVEY=true fails nothing and prints every distinct
 * problem with the smallest request that showed it; FUZZ_STATS=true prints how often each route
 * answered each status and code.
 */
const OVERRIDES = { MODEL_MAX_RETRIES: "0", MODEL_TIMEOUT_MS: "10000" };
const app = useOwnApp(OVERRIDES, { limits: { requestsPerMinute: 100_000_000, tokensPerMinute: 100_000_000_000 } });

/** Requests in flight at once (a property run's batch): plenty for two cores. */
const CONCURRENCY = 8;
/**
 * The slowest GET /api/health allowed while the fuzz runs. Generous on purpose (these machines are
 * noisy, and a health probe normally takes a few milliseconds): a blocked event loop (a regex
 * backtracking, a huge synchronous parse) shows up as seconds.
 */
const STALL_BOUND_MS = 1_000;
/** Fixed, so a run is repeatable; FUZZ_SEED=<n> explores other inputs. */
const SEED = Number(process.env.FUZZ_SEED ?? 20_250_601);
/** How long fast-check may spend on one property, shrinking included. */
const PROPERTY_TIME_LIMIT_MS = 60_000;

let probe: HealthProbe;
let sent = 0;
const crashes: string[] = [];
/** Requests the emulator itself failed on (its 500, which the app passes on as 502 upstream_error). */
const emulatorFailures: string[] = [];
/** How often each route answered each status (and code), to see what the generators reach. */
const outcomes = new Map<string, number>();
/**
 * FUZZ_SURVEY=true: nothing fails; every distinct problem is printed at the end with the smallest
 * request that showed it, to list all findings at once rather than stop (and shrink) at the first.
 */
const SURVEY = process.env.FUZZ_SURVEY === "true";
const survey = new Map<string, { request: FuzzRequest; problem: string; size: number; count: number }>();

function surveyed(request: FuzzRequest, problem: string): void {
  const signature = `${request.path.replace(/\?.*/, "")} ${problem.replace(/\b[0-9a-f]{32}\b|\b[0-9a-f-]{36}\b/g, "<id>").replace(/(: ".{0,60}).*/s, "$1")}`;
  const size = (bodyText(request) ?? "").length + JSON.stringify(request.headers).length;
  const known = survey.get(signature);
  if (!known || size < known.size) survey.set(signature, { request, problem, size, count: (known?.count ?? 0) + 1 });
  else known.count++;
}

beforeAll(async () => {
  await warmUp();
  probe = new HealthProbe(() => app.host.url, 50);
  probe.start();
});

afterAll(async () => {
  await probe?.stop();
});

// ---------------------------------------------------------------------------------------------------
// Running a batch

/**
 * One good request of each kind, not counted: a fresh host loads and compiles its schemas on first
 * use, which holds its event loop for a moment; that is start-up, not a stall the fuzz is after.
 */
async function warmUp(): Promise<void> {
  const headers = { "content-type": "application/json", "api-key": "dev-key" };
  const schema = {
    type: "json_schema",
    json_schema: { name: "answer", schema: { type: "object", properties: { answer: { type: "string" } }, required: ["answer"] } },
  };
  const requests: FuzzRequest[] = [
    { method: "POST", path: "/api/chat", headers, body: seed("chat.request") },
    { method: "POST", path: "/api/chat", headers, body: { ...seed("chat.request"), response_format: schema } },
    { method: "POST", path: "/api/chat/stream", headers, body: seed("tools.request") },
    {
      method: "POST",
      path: "/api/chat",
      headers,
      body: { messages: [{ role: "user", content: "When is the next flight from Miami to Seattle?" }], server_tools: ["get_flight_info"] },
    },
    { method: "POST", path: "/api/chat/completions", headers, body: { ...seed("chat.request"), stream: true } },
    { method: "GET", path: "/api/openapi.json", headers },
    { method: "GET", path: "/api/info", headers },
    { method: "GET", path: "/api/health/ready", headers },
  ];
  for (const request of requests) await send(app.host.url, request);
}

/** After a batch: the host answers health, or it died (then it is restarted, and the crash is told). */
async function hostCrash(): Promise<string | undefined> {
  if ((await probe.probe()).ok) return undefined;
  const child = app.host.service.child;
  const alive = () => child.exitCode === null && child.signalCode === null;
  if (alive()) await Promise.race([once(child, "exit"), new Promise((resolve) => setTimeout(resolve, 1_000))]);
  // One more chance for a host that is merely slow to answer (the probe waits 5 s).
  if (alive() && (await probe.probe()).ok) return undefined;
  const exited = !alive();
  const output = app.host.service.output().split("\n").slice(-15).join("\n");
  const crash = exited
    ? `the host process exited (code ${child.exitCode}, signal ${child.signalCode}); its last output:\n${output}`
    : `the host no longer answers GET /api/health; its last output:\n${output}`;
  crashes.push(crash);
  await app.host.stop();
  app.host = await startHost(settingsFor(inject("stackSettings"), app.emulator.url, OVERRIDES));
  await warmUp();
  return crash;
}

async function runBatch(requests: FuzzRequest[], shape: (request: FuzzRequest) => ErrorShape): Promise<void> {
  const started = performance.now();
  const answers = await Promise.all(requests.map((request) => send(app.host.url, request)));
  sent += requests.length;
  answers.forEach((answer, i) => {
    const route = (requests[i] as FuzzRequest).path.replace(/\?.*/, "");
    let key = `${route} no-answer`;
    if (answer.ok) {
      const code = /"code":\s*"([^"]+)"/.exec(answer.text)?.[1];
      key = `${route} ${answer.status}${answer.status >= 400 && code ? ` ${code}` : ""}`;
    }
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  });
  const problems: string[] = [];
  answers.forEach((answer, i) => {
    const request = requests[i] as FuzzRequest;
    if (isEmulatorFailure(answer)) {
      emulatorFailures.push(`${request.method} ${request.path} ${JSON.stringify(request.headers)} ${bodyText(request)?.slice(0, 2_000)}`);
      return;
    }
    for (const problem of answerProblems(request, answer, shape(request))) {
      problems.push(`request #${i} (${request.method} ${request.path}): ${problem}`);
      if (SURVEY) surveyed(request, problem);
    }
  });
  const crash = await hostCrash();
  if (crash) problems.push(crash);
  const stall = probe.worstSince(started);
  if (stall > STALL_BOUND_MS) problems.push(`GET /api/health took ${Math.round(stall)} ms while this batch ran (bound ${STALL_BOUND_MS} ms)`);
  if (SURVEY && (crash || stall > STALL_BOUND_MS)) await isolate(requests, crash ?? `a stall of ${Math.round(stall)} ms`);
  if (problems.length > 0 && !SURVEY) throw new Error(problems.join("\n"));
}

/** Survey mode: which requests of a batch crash the host or stall it, sent one at a time. */
async function isolate(requests: FuzzRequest[], batchProblem: string): Promise<void> {
  let found = false;
  for (const request of requests) {
    const started = performance.now();
    await send(app.host.url, request);
    const crash = await hostCrash();
    const stall = probe.worstSince(started);
    if (crash) surveyed(request, `host crash: ${crash.split("\n").slice(0, 6).join(" | ")}`);
    else if (stall > STALL_BOUND_MS) surveyed(request, `GET /api/health took about ${Math.round(stall / 100) / 10} s`);
    found ||= crash !== undefined || stall > STALL_BOUND_MS;
  }
  if (!found)
    for (const request of requests)
      surveyed(request, `in a batch that showed "${batchProblem.slice(0, 60)}", not repeated when sent alone (V8 runs a regex faster once compiled)`);
}

const errorShapeOf = (request: FuzzRequest): ErrorShape => (request.path.includes("/chat/completions") ? "sdk" : "problem");

function fuzz(requests: fc.Arbitrary<FuzzRequest>, numRuns: number, seedOffset: number): Promise<void> {
  return fc.assert(
    fc.asyncProperty(fc.array(requests, { minLength: 1, maxLength: CONCURRENCY }), (batch) => runBatch(batch, errorShapeOf)),
    { seed: SEED + seedOffset, numRuns, interruptAfterTimeLimit: PROPERTY_TIME_LIMIT_MS },
  );
}

// ---------------------------------------------------------------------------------------------------
// Hostile values

const hugeNumbers = fc.constantFrom(
  1e308,
  -1e308,
  Number.MIN_VALUE,
  2 ** 53 + 2,
  -(2 ** 31),
  2 ** 32,
  1e21,
  4096,
  4097,
  131_073,
  -0,
  0,
  1,
  -1,
  0.5,
  1.5,
  0.1 + 0.2,
  -2.0000001,
  1e-7,
);
const numericStrings = fc.constantFrom(
  "1",
  "0",
  "-1",
  "0.5",
  "1e308",
  "-1e308",
  "NaN",
  "Infinity",
  "",
  " ",
  " 1 ",
  "0x10",
  "1_000",
  "\u0661",
  "4097",
  "1e3",
  "01",
  "+1",
  "true",
  "null",
);
const specialStrings = fc.constantFrom(
  "",
  " ",
  "\u0000",
  "\ud800",
  "\udfff\ud800",
  "\u2028\u2029",
  "\ufeff",
  "\u{1F600}",
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
  "mistral-large",
  "MISTRAL-LARGE",
  "mistral-large ",
  "Mistral-Large",
  "../../etc/passwd",
  "%00",
  "${jndi:ldap://x}",
  "<script>alert(1)</script>",
  "{{tool_result}}",
  "{{tool_result.info}}",
  "emulator: filter the answer please",
  "How to make a lethal bomb?",
  "abc0DeFgH",
  "get_flight_info",
);
const oddStrings = fc.oneof(fc.string(), fc.string({ unit: "grapheme", maxLength: 30 }), fc.string({ unit: "binary", maxLength: 30 }), specialStrings);
/** Shallow enough to pass any depth limit half the time; up to a few thousand levels otherwise. */
const depths = fc.oneof(fc.integer({ min: 2, max: 64 }), fc.integer({ min: 65, max: 6_000 }), fc.constantFrom(1_000, 2_000, 3_000, 4_000, 5_000, 6_000));
const deepValue = fc
  .tuple(fc.constantFrom("array", "object", "mixed") as fc.Arbitrary<"array" | "object" | "mixed">, depths)
  .map(([shape, depth]) => new Deep(shape, depth));
const deepSchema = fc
  .tuple(fc.constantFrom("schema-properties", "schema-items", "schema-not", "schema-anyOf") as fc.Arbitrary<"schema-properties">, depths)
  .map(([shape, depth]) => new Deep(shape, depth));
/** Long strings, at most about 100 KB of JSON each, so two of them stay under /api/chat's 256 KiB. */
const longString = fc
  .tuple(fc.constantFrom("a", "\u00e9", "\u{1F600}", "\u2028", "\\", '"', "\u0000", "a b "), fc.constantFrom(1_000, 65_000, 66_000, 100_000))
  .map(([unit, bytes]) => longOfBytes(unit, bytes));
const wrongTypes = fc.oneof(
  fc.boolean(),
  fc.constant(null),
  fc.constant([]),
  fc.constant({}),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
  fc.object({ maxDepth: 2 }),
);
const hostile: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue() },
  { weight: 2, arbitrary: wrongTypes },
  { weight: 2, arbitrary: hugeNumbers },
  { weight: 2, arbitrary: numericStrings },
  { weight: 2, arbitrary: oddStrings },
  { weight: 1, arbitrary: deepValue },
  { weight: 1, arbitrary: longString },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

/** What a path and value do to a body: `undefined` deletes the field. */
interface Mutation {
  path: (string | number)[];
  value: unknown;
}

const mutation = (paths: (string | number)[][], values: fc.Arbitrary<unknown> = hostile): fc.Arbitrary<Mutation> =>
  fc.record({ path: fc.constantFrom(...paths), value: values });

/** A template with 0, 1 or 2 of its fields made hostile (mostly one; a third are left as they are). */
function mutated(templates: fc.Arbitrary<unknown>, mutations: fc.Arbitrary<Mutation>): fc.Arbitrary<unknown> {
  const count = fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, { weight: 3, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.constant(2) });
  return fc
    .tuple(
      templates,
      count.chain((n) => fc.array(mutations, { minLength: n, maxLength: n })),
    )
    .map(([template, changes]) => changes.reduce<unknown>((body, { path, value }) => setAt(body, path, cloneValue(value)), cloneValue(template)));
}

// ---------------------------------------------------------------------------------------------------
// Headers

const headerText = fc.string({
  unit: fc
    .integer({ min: 0x20, max: 0xff })
    .filter((c) => c !== 0x7f)
    .map((c) => String.fromCharCode(c)),
  maxLength: 120,
});
const hex = (length: number) => fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: length, maxLength: length });
const traceparent = fc.oneof(
  fc.tuple(hex(32), hex(16)).map(([trace, span]) => `00-${trace}-${span}-01`),
  fc.constantFrom(
    "00-00000000000000000000000000000000-0000000000000000-00",
    "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01",
    "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
    "00-zzf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "00--01",
    " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 ",
  ),
  headerText,
);
const contentTypes = fc.oneof(
  { weight: 20, arbitrary: fc.constant("application/json") },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      "application/json; charset=utf-8",
      "APPLICATION/JSON",
      "application/vnd.api+json",
      "application/json;charset=latin1",
      "application/json ; foo=bar",
      "application/json;",
      "application/problem+json",
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "application/jsonx",
      "application/",
      "*/*",
      "json",
    ),
  },
  { weight: 1, arbitrary: headerText },
);
const apiKeys = fc.oneof(
  { weight: 24, arbitrary: fc.constant("dev-key") },
  { weight: 1, arbitrary: fc.constantFrom("", " dev-key ", "DEV-KEY", "wrong", "dev-key\tdev-key") },
  { weight: 1, arbitrary: headerText },
);
const oddHeader: fc.Arbitrary<[string, string]> = fc.oneof(
  fc.tuple(
    fc.constant("x-request-timeout-ms"),
    fc.oneof(
      fc.constantFrom("1000", "999", "5000", "230000", "230001", "abc", "-1", "1e3", " 5000 ", "", "0001000", "5000.0", "99999999999999999999"),
      headerText,
    ),
  ),
  fc.tuple(fc.constant("x-allow-fallback"), fc.oneof(fc.constantFrom("true", "TRUE", " true ", "false", "1", "", "yes"), headerText)),
  fc.tuple(
    fc.constant("extra-parameters"),
    fc.oneof(fc.constantFrom("pass-through", "drop", "error", "passthrough", "", "PASS-THROUGH", "pass-through, drop"), headerText),
  ),
  fc.tuple(fc.constant("extra-params"), fc.constantFrom("passthrough", "pass-through", "drop", "error", "PassThrough", "", "nonsense")),
  fc.tuple(fc.constant("traceparent"), traceparent),
  fc.tuple(fc.constant("tracestate"), headerText),
  fc.tuple(fc.constant("x-request-id"), headerText),
  fc.tuple(
    fc.constant("authorization"),
    fc.oneof(fc.constantFrom("Bearer dev-key", "Bearer", "Basic ZGV2LWtleQ==", "bearer dev-key", "Bearer  dev-key  x"), headerText),
  ),
  fc.tuple(fc.constant("x-forwarded-proto"), fc.constantFrom("http", "https", "ftp", "", "http, https")),
  fc.tuple(fc.constant("origin"), fc.constantFrom("https://example.com", "null", "http://localhost:3000", "*")),
  fc.tuple(fc.constant("accept"), fc.constantFrom("application/json", "text/event-stream", "*/*", "")),
  fc.tuple(
    fc.constant("x-ms-client-principal"),
    fc.oneof(
      headerText,
      fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? "").toString("base64")),
    ),
  ),
);
/** Mostly the plain headers of a good call; sometimes one to three others, with odd values. */
const headers = (json: boolean) =>
  fc
    .tuple(
      json ? contentTypes : fc.constant(undefined),
      apiKeys,
      fc.oneof({ weight: 3, arbitrary: fc.constant([]) }, { weight: 2, arbitrary: fc.array(oddHeader, { minLength: 1, maxLength: 3 }) }),
    )
    .map(([contentType, apiKey, extra]) => {
      const all: Record<string, string> = {
        ...(contentType !== undefined ? { "content-type": contentType } : {}),
        ...(apiKey !== "" ? { "api-key": apiKey } : {}),
      };
      for (const [name, value] of extra) all[name] = value;
      return all;
    });

// ---------------------------------------------------------------------------------------------------
// App-contract bodies (/api/chat, /api/chat/stream)

const EVIL_PATTERNS = [
  "^(a+)+$",
  "(a+)+$",
  "^(a|a)*$",
  "^(a|aa)+$",
  "^(\\w+\\s?)*$",
  "(x+x+)+y",
  "[",
  "(?<=a)b",
  "\\p{L}+",
  "(?i)a",
  "\\",
  "a{1,99999}",
  "^.*$",
];
/** Inputs that make the patterns above backtrack: about 2 s at 26 characters, milliseconds at 16. */
const evilInput = fc.constantFrom(8, 16, 22, 24, 25, 26).map((n) => `${"a".repeat(n)}!`);
const FORMATS = [
  "date-time",
  "email",
  "uri",
  "regex",
  "ipv4",
  "hostname",
  "uuid",
  "int32",
  "binary",
  "unknown-format",
  "x\ny",
  "date-time\n",
  "\u0000",
  "__proto__",
  "constructor",
  "toString",
];
const REFS = [
  "http://example.com/schema.json",
  "https://127.0.0.1:1/s.json#/a",
  "http://169.254.169.254/metadata/instance",
  "file:///etc/passwd",
  "#/definitions/missing",
  "#",
  "#/properties/answer",
  "urn:x",
  "//evil.example/x",
  "#/$defs/a",
];
/** The keywords that ask Ajv for more than validation: async validators, data references, remote schemas, regexes, formats. */
const namedHostileKeyword: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.constantFrom({ $async: true }, { $async: true }, { $async: false }, { $async: "yes" }),
  fc.record({ $data: fc.constantFrom("1/a", "#", "/x", "0") }),
  fc.record({ maximum: fc.record({ $data: fc.constantFrom("1/a", "/b", "#") }) }),
  fc.record({ $ref: fc.constantFrom(...REFS) }),
  fc.record({ pattern: fc.constantFrom(...EVIL_PATTERNS) }),
  fc.record({ format: fc.constantFrom(...FORMATS) }),
);
const otherHostileKeyword: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({ $id: fc.constantFrom("http://evil.example/a", "#a", "x", "") }),
  fc.record({
    $schema: fc.constantFrom("http://json-schema.org/draft-07/schema#", "https://json-schema.org/draft/2020-12/schema", "http://example.com/meta", ""),
  }),
  fc.record({ patternProperties: fc.constantFrom(...EVIL_PATTERNS).map((p) => ({ [p]: {} })) }),
  fc.record({ propertyNames: fc.record({ pattern: fc.constantFrom(...EVIL_PATTERNS) }) }),
  fc.record({ const: evilInput }),
  fc.record({ enum: fc.array(evilInput, { minLength: 1, maxLength: 2 }) }),
  fc.constantFrom(
    { definitions: { a: { $ref: "#/definitions/a" } }, $ref: "#/definitions/a" },
    { $defs: { a: { $ref: "#/$defs/a" } }, $ref: "#/$defs/a" },
    { $ref: "#" },
    JSON.parse('{"properties": {"__proto__": {"type": "string"}}}') as Record<string, unknown>,
    { unevaluatedProperties: false },
    { $dynamicRef: "#meta" },
    { $recursiveRef: "#" },
    { nullable: true },
    { discriminator: { propertyName: "kind" } },
    { additionalProperties: false },
    { if: { type: "string" }, then: { $async: true }, else: { const: 1 } },
    { allOf: [{ $async: true }] },
    { items: [{ type: "string" }], additionalItems: false },
    { dependencies: { a: ["b"] } },
  ),
  fc.record({ multipleOf: fc.constantFrom(0, -1, 1e-320, 1e308, 0.1) }),
  fc.record({ minLength: hugeNumbers, maxLength: hugeNumbers }, { requiredKeys: [] }),
  fc.record({ minItems: hugeNumbers, maxProperties: hugeNumbers }, { requiredKeys: [] }),
  fc.record({ type: fc.constantFrom("nonsense", ["string", "null"], [], 1, "integer") }),
  fc.record({ required: fc.constantFrom(["answer"], "answer", [1], ["__proto__"], ["a", "a"]) }),
  fc.record({ items: deepSchema }),
  fc.record({ properties: fc.record({ answer: deepSchema }) }),
  fc.record({ default: fc.jsonValue(), $comment: oddStrings, description: oddStrings }, { requiredKeys: [] }),
);
const hostileKeyword = fc.oneof({ weight: 1, arbitrary: namedHostileKeyword }, { weight: 1, arbitrary: otherHostileKeyword });

const baseSchemas = fc.constantFrom<Record<string, unknown>>(
  { type: "object", properties: { answer: { type: "string" } }, required: ["answer"] },
  { type: "string" },
  { type: "number" },
  { type: "integer", minimum: 3 },
  { type: "array", items: { type: "string" } },
  {},
  { type: "boolean" },
  { type: "null" },
);
/** Schemas the emulator's answer (a small example of the schema's type) does not match. */
const mismatchedSchemas = fc.constantFrom<Record<string, unknown>>(
  { type: "string", format: "email" },
  { type: "string", pattern: "^x$" },
  { type: "string", minLength: 10_000 },
  { type: "integer", minimum: 3, multipleOf: 7 },
  { type: "object", properties: { answer: { type: "string" } }, required: ["answer", "missing"] },
  { type: "array", items: { type: "string" }, minItems: 5 },
);
/** Patterns that backtrack, applied to an answer that makes them do so. */
const backtrackingSchema = fc.tuple(fc.constantFrom("^(a+)+$", "(a+)+$", "^(a|aa)+$", "^(\\w+\\s?)*$"), evilInput).chain(([pattern, input]) =>
  fc.constantFrom<Record<string, unknown>>(
    { type: "string", const: input, pattern },
    { type: "string", enum: [input], pattern },
    // The emulator answers a plain string schema with its usual text, which quotes the prompt.
    { type: "string", pattern },
    { type: "object", properties: { [input]: { type: "string" } }, propertyNames: { pattern } },
    { type: "object", properties: { [input]: { type: "string" } }, patternProperties: { [pattern]: { type: "string" } } },
  ),
);
/** A usable schema with hostile keywords mixed in, at the top or inside `properties.answer`. */
const hostileSchema: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.tuple(baseSchemas, fc.array(hostileKeyword, { minLength: 1, maxLength: 3 })).map(([base, keywords]) => Object.assign({}, base, ...keywords)),
  },
  { weight: 3, arbitrary: fc.tuple(mismatchedSchemas, namedHostileKeyword).map(([base, keyword]) => ({ ...base, ...keyword })) },
  {
    weight: 2,
    arbitrary: fc.tuple(fc.array(hostileKeyword, { minLength: 1, maxLength: 2 }), fc.boolean()).map(([keywords, required]) => ({
      type: "object",
      properties: { answer: Object.assign({ type: "string" }, ...keywords) },
      ...(required ? { required: ["answer"] } : {}),
    })),
  },
  { weight: 2, arbitrary: backtrackingSchema },
  { weight: 1, arbitrary: deepSchema },
  { weight: 1, arbitrary: fc.jsonValue() },
  { weight: 1, arbitrary: fc.object() },
);
const userText = fc.oneof(
  { weight: 2, arbitrary: fc.constant("Answer in JSON, please.") },
  { weight: 2, arbitrary: evilInput },
  { weight: 1, arbitrary: oddStrings },
);
const jsonSchemaBody = fc
  .tuple(userText, hostileSchema, fc.constantFrom("x", "answer", "A-b_9"), fc.option(fc.boolean(), { nil: undefined }))
  .map(([content, schema, name, strict]) => ({
    messages: [{ role: "user", content }],
    response_format: { type: "json_schema", json_schema: { name, schema, ...(strict === undefined ? {} : { strict }) } },
  }));

const toolName = fc.oneof(
  fc.constantFrom("get_flight_info", "lookup", "a", "A-b_9", "x".repeat(64), "x".repeat(65), "bad name", ""),
  fc.stringMatching(/^[a-zA-Z0-9_-]{1,64}$/),
);
const toolParameters = fc.oneof(
  fc.constant(seed("tool-definition").function.parameters),
  fc.constant({ type: "object" }),
  hostileSchema,
  fc.object({ maxDepth: 3 }),
);
const toolDefinition = fc.record(
  {
    type: fc.constant("function"),
    function: fc.record({ name: toolName, description: fc.string({ maxLength: 200 }), parameters: toolParameters }, { requiredKeys: ["name"] }),
  },
  { requiredKeys: ["type", "function"] },
);
const toolChoice = fc.oneof(
  fc.constantFrom("auto", "none", "required"),
  toolName.map((name) => ({ type: "function", function: { name } })),
);
const flightQuestion = "When is the next flight from Miami to Seattle?";
const toolsBody = fc.record(
  {
    messages: fc.constantFrom(
      [{ role: "user", content: flightQuestion }],
      [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hi" },
      ],
    ),
    tools: fc.array(toolDefinition, { minLength: 1, maxLength: 3 }),
    tool_choice: toolChoice,
    server_tools: fc.oneof(
      fc.constant(["get_flight_info"]),
      fc.array(fc.constantFrom("get_flight_info", "nope", "x", "__proto__"), { minLength: 1, maxLength: 3 }),
    ),
  },
  { requiredKeys: ["messages"] },
);

const callId = fc.oneof(
  fc.constantFrom("abc0DeFgH", "call_7f3a_XYZ", "", "x".repeat(128), "x".repeat(129), "../..", "\u0000", "abc0DeFgH ", "ABC0DEFGH", "__proto__", "constructor"),
  fc.string({ maxLength: 20 }),
);
const toolArguments = fc.oneof(
  fc.json(),
  fc.string(),
  fc.constantFrom("{", "null", "[]", '{"origin_city": 1}', '{"origin_city":"Miami","destination_city":"Seattle"}'),
);
const toolCall = (id: fc.Arbitrary<string>) =>
  fc.record({
    id,
    type: fc.constantFrom("function", "function", "tool", ""),
    function: fc.record(
      { name: fc.oneof(fc.constant("get_flight_info"), toolName), arguments: toolArguments, call_id: fc.option(fc.string(), { nil: null }) },
      { requiredKeys: ["name", "arguments"] },
    ),
  });
/** A conversation that replays tool calls, with odd ids and answers that may not match them. */
const toolConversation = fc
  .tuple(fc.uniqueArray(callId, { minLength: 1, maxLength: 3 }), fc.array(callId, { maxLength: 2 }), fc.boolean(), fc.boolean())
  .chain(([ids, strays, answerAll, withTools]) =>
    fc.tuple(fc.tuple(...ids.map((id) => toolCall(fc.constant(id)))), fc.constant(ids), fc.constant(strays), fc.constant(answerAll), fc.constant(withTools)),
  )
  .map(([calls, ids, strays, answerAll, withTools]) => ({
    messages: [
      { role: "user", content: flightQuestion },
      { role: "assistant", content: "", tool_calls: calls },
      ...(answerAll ? ids : ids.slice(0, 1)).map((id) => ({ role: "tool", tool_call_id: id, content: '{"info": "none"}' })),
      ...strays.map((id) => ({ role: "tool", tool_call_id: id, content: "stray" })),
    ],
    ...(withTools ? { tools: [seed("tool-definition")], tool_choice: "auto" } : {}),
  }));
const oddRole = fc.constantFrom<unknown>("system", "user", "assistant", "tool", "developer", "function", "", "USER", "__proto__", " user", null, 1, ["user"]);
const oddMessage = fc.oneof(
  fc.record({ role: oddRole, content: fc.oneof(fc.string(), fc.constant(null), hostile) }, { requiredKeys: ["role"] }),
  fc.record(
    { role: fc.constant("assistant"), content: fc.option(fc.string(), { nil: null }), tool_calls: fc.array(toolCall(callId), { maxLength: 3 }) },
    { requiredKeys: ["role"] },
  ),
  fc.record({ role: fc.constant("tool"), tool_call_id: callId, content: fc.oneof(fc.string(), fc.json()), name: fc.string() }, { requiredKeys: ["role"] }),
);
const oddMessagesBody = fc
  .tuple(fc.array(oddMessage, { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([messages, endWithUser]) => ({ messages: endWithUser ? [...messages, { role: "user", content: "Hi" }] : messages }));

const unitDouble = fc.double({ min: 0, max: 1, noNaN: true });
const penalty = fc.double({ min: -2, max: 2, noNaN: true });
const conversation = fc.array(fc.record({ role: fc.constantFrom("system", "user"), content: fc.string({ maxLength: 200 }) }), { minLength: 1, maxLength: 4 });
/** Bodies the contract accepts, with any of its optional fields. */
const validAppBody = fc.record(
  {
    messages: conversation,
    model: fc.constantFrom("mistral-large", "mistral-small"),
    temperature: unitDouble,
    top_p: unitDouble,
    max_tokens: fc.integer({ min: 1, max: 4_096 }),
    stop: fc.oneof(fc.string({ minLength: 1, maxLength: 10 }), fc.array(fc.string({ minLength: 1, maxLength: 10 }), { minLength: 1, maxLength: 4 })),
    presence_penalty: penalty,
    frequency_penalty: penalty,
    seed: fc.integer({ min: 0 }),
    safe_mode: fc.boolean(),
    response_format: fc.constantFrom({ type: "text" }, { type: "json_object" }),
    extra: fc.dictionary(fc.constantFrom("logprobs", "random_seed", "top_k", "foo"), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }),
  },
  { requiredKeys: ["messages"] },
);
const appTemplates: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...["chat", "parameters", "json-mode", "tools", "tools-followup"].map((name) => seed(`${name}.request`))) },
  { weight: 1, arbitrary: fc.constant({ messages: [{ role: "user", content: flightQuestion }], server_tools: ["get_flight_info"] }) },
  { weight: 1, arbitrary: fc.constant({ messages: [{ role: "user", content: "Hi" }], extra: { logprobs: true, random_seed: 7 }, safe_mode: true }) },
  { weight: 3, arbitrary: validAppBody },
  { weight: 4, arbitrary: jsonSchemaBody },
  { weight: 2, arbitrary: toolsBody },
  { weight: 2, arbitrary: toolConversation },
  { weight: 1, arbitrary: oddMessagesBody },
);
const APP_PATHS: (string | number)[][] = [
  [],
  ["messages"],
  ["messages", 0],
  ["messages", 0, "role"],
  ["messages", 0, "content"],
  ["messages", -1, "content"],
  ["messages", 1],
  ["messages", 0, "name"],
  ["messages", 0, "tool_calls"],
  ["messages", 0, "tool_call_id"],
  ["messages", 300],
  ["model"],
  ["stream"],
  ["temperature"],
  ["top_p"],
  ["max_tokens"],
  ["stop"],
  ["stop", 0],
  ["presence_penalty"],
  ["frequency_penalty"],
  ["seed"],
  ["safe_mode"],
  ["response_format"],
  ["response_format", "type"],
  ["response_format", "json_schema"],
  ["response_format", "json_schema", "name"],
  ["response_format", "json_schema", "schema"],
  ["response_format", "json_schema", "strict"],
  ["tools"],
  ["tools", 0],
  ["tools", 0, "function"],
  ["tools", 0, "function", "name"],
  ["tools", 0, "function", "parameters"],
  ["tools", 0, "function", "description"],
  ["tool_choice"],
  ["tool_choice", "function", "name"],
  ["server_tools"],
  ["server_tools", 0],
  ["extra"],
  ["extra", "logprobs"],
  ["extra", "__proto__"],
  ["extra", "constructor"],
  ["extra", "messages"],
  ["extra", "stream"],
  ["extra", "n"],
  ["__proto__"],
  ["constructor"],
  ["unknown_field"],
  ["n"],
  ["stream_options"],
  ["logprobs"],
];
const appMutation = fc.oneof(
  { weight: 4, arbitrary: mutation(APP_PATHS) },
  {
    weight: 1,
    arbitrary: mutation(
      [["response_format"]],
      jsonSchemaBody.map((b) => b.response_format),
    ),
  },
  {
    weight: 1,
    arbitrary: mutation(
      [
        ["response_format", "json_schema", "schema"],
        ["tools", 0, "function", "parameters"],
      ],
      hostileSchema,
    ),
  },
);
const appBody = mutated(appTemplates, appMutation);

// ---------------------------------------------------------------------------------------------------
// Drop-in bodies (/api/chat/completions, /api/v1/chat/completions)

const NUMERIC_FIELDS = ["max_tokens", "max_completion_tokens", "temperature", "top_p", "n", "seed", "presence_penalty", "frequency_penalty"];
const numericHostile = fc.oneof(
  numericStrings,
  hugeNumbers,
  fc.constant(null),
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.constantFrom([], {}, [1], { value: 1 }),
);
const streamOptions = fc.oneof(fc.constant({ include_usage: true }), fc.constant({ include_usage: "true" }), fc.constant(null), fc.jsonValue({ maxDepth: 2 }));
const dropInConversation = fc.array(fc.record({ role: fc.constantFrom("system", "developer", "user", "assistant"), content: fc.string({ maxLength: 200 }) }), {
  minLength: 1,
  maxLength: 4,
});
const validDropInBody = fc.record(
  {
    messages: dropInConversation,
    model: fc.constantFrom("mistral-large", "mistral-small", "Mistral-Large", "", null),
    stream: fc.boolean(),
    stream_options: streamOptions,
    temperature: unitDouble,
    top_p: unitDouble,
    max_tokens: fc.integer({ min: 1, max: 4_096 }),
    n: fc.constant(1),
    seed: fc.integer(),
    stop: fc.oneof(fc.string({ minLength: 1, maxLength: 10 }), fc.array(fc.string({ minLength: 1, maxLength: 10 }), { maxLength: 4 })),
    response_format: fc.constantFrom({ type: "text" }, { type: "json_object" }),
  },
  { requiredKeys: ["messages"] },
);
const dropInTemplates: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      ...["chat", "parameters", "stream", "json-mode", "tools", "tools-followup", "extra-parameters", "safe-mode"].map((name) => seed(`${name}.request`)),
    ),
  },
  { weight: 3, arbitrary: validDropInBody },
  { weight: 1, arbitrary: jsonSchemaBody },
  { weight: 1, arbitrary: toolsBody.map(({ server_tools: _ignored, ...body }) => body) },
  { weight: 1, arbitrary: toolConversation },
  { weight: 1, arbitrary: oddMessagesBody },
);
const DROP_IN_PATHS: (string | number)[][] = [
  [],
  ["messages"],
  ["messages", 0],
  ["messages", 0, "role"],
  ["messages", 0, "content"],
  ["messages", -1, "content"],
  ["messages", 0, "tool_calls"],
  ["model"],
  ["stream"],
  ["stream_options"],
  ["stream_options", "include_usage"],
  ["stop"],
  ["response_format"],
  ["response_format", "json_schema", "schema"],
  ["tools"],
  ["tools", 0, "function", "parameters"],
  ["tool_choice"],
  ["logprobs"],
  ["user"],
  ["modalities"],
  ["__proto__"],
  ["constructor"],
  ...NUMERIC_FIELDS.map((field) => [field]),
];
const dropInMutation = fc.oneof(
  { weight: 3, arbitrary: mutation(DROP_IN_PATHS) },
  {
    weight: 3,
    arbitrary: mutation(
      NUMERIC_FIELDS.map((field) => [field]),
      numericHostile,
    ),
  },
);
/** About a third of drop-in bodies ask for a stream. */
const dropInBody = fc
  .tuple(mutated(dropInTemplates, dropInMutation), fc.constantFrom<boolean | undefined>(true, undefined, undefined))
  .map(([body, stream]) => (stream && typeof body === "object" && body !== null && !Array.isArray(body) ? setAt(body, ["stream"], true) : body));

// ---------------------------------------------------------------------------------------------------
// Requests

const RAW_BODIES = [
  "",
  " ",
  "{",
  "{not json",
  "null",
  "[]",
  "[1,2]",
  "1",
  '"string"',
  "true",
  "\ufeff{}",
  '{"messages": [}',
  "\u0000",
  '{"a":1}{"b":2}',
  '{"messages":[{"role":"user","content":"Hi"}]}\n',
];
/** Bodies that are not JSON or not an object, and bodies over the route's limit (413), declared or chunked. */
const rawBody = (limitBytes: number) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...RAW_BODIES).map((raw) => ({ raw, chunked: false })) },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.constantFrom(limitBytes + 1, limitBytes * 2), fc.boolean()).map(([bytes, chunked]) => ({ raw: new Long("a", bytes), chunked })),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map((raw) => ({ raw, chunked: false })) },
  );

function post(path: fc.Arbitrary<string>, body: fc.Arbitrary<unknown>, limitBytes: number): fc.Arbitrary<FuzzRequest> {
  return fc.oneof(
    {
      weight: 30,
      arbitrary: fc
        .record({ path, headers: headers(true), body, chunked: fc.constantFrom(false, false, false, true) })
        .map((r) => ({ method: "POST" as const, ...r })),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(path, headers(true), rawBody(limitBytes)).map(([p, h, raw]) => ({ method: "POST" as const, path: p, headers: h, ...raw })),
    },
    // These routes answer other methods with their own 405.
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom("GET", "PUT", "PATCH", "DELETE") as fc.Arbitrary<FuzzRequest["method"]>, path, headers(true), body)
        .map(([method, p, h, b]) => ({ method, path: p, headers: h, body: b })),
    },
  );
}

const chatRequests = post(fc.constant("/api/chat"), appBody, 1024 * 1024);
const streamRequests = post(fc.constant("/api/chat/stream"), appBody, 1024 * 1024);
const dropInRequests = post(fc.constantFrom("/api/chat/completions", "/api/v1/chat/completions"), dropInBody, 1024 * 1024);
const getRequests: fc.Arbitrary<FuzzRequest> = fc
  .tuple(
    fc.constantFrom("/api/info", "/api/health", "/api/health/ready", "/api/openapi.json"),
    fc.oneof({ weight: 4, arbitrary: fc.constant("") }, { weight: 1, arbitrary: fc.webQueryParameters().map((q) => `?${q}`) }),
    headers(false),
  )
  .map(([path, query, h]) => ({ method: "GET", path: `${path}${query}`, headers: h }));

// ---------------------------------------------------------------------------------------------------
// The runs. numRuns counts batches of 1 to 8 requests (about 4.2 on average): some 4,200 requests.

describe("fuzzing every route over HTTP", () => {
  it("POST /api/chat", () => fuzz(chatRequests, 340, 1), PROPERTY_TIME_LIMIT_MS + 30_000);

  it("POST /api/chat/stream", () => fuzz(streamRequests, 220, 2), PROPERTY_TIME_LIMIT_MS + 30_000);

  it("POST /api/chat/completions and /api/v1/chat/completions", () => fuzz(dropInRequests, 340, 3), PROPERTY_TIME_LIMIT_MS + 30_000);

  it("GET /api/info, /api/health, /api/health/ready, /api/openapi.json", () => fuzz(getRequests, 90, 4), PROPERTY_TIME_LIMIT_MS + 30_000);

  it("leaves the host alive and its event loop responsive", async () => {
    await probe.stop();
    if (process.env.FUZZ_STATS === "true")
      console.log(
        [...outcomes]
          .sort()
          .map(([key, n]) => `${key}: ${n}`)
          .join("\n"),
      );
    for (const [signature, { request, count }] of SURVEY ? survey : [])
      console.log(`SURVEY ${count}x ${signature}\n  ${JSON.stringify(request.headers)} ${(bodyText(request) ?? "").slice(0, 1500)}`);
    console.log(`fuzz: ${sent} requests sent; ${probe.count} health probes, the slowest ${Math.round(probe.worst)} ms; ${crashes.length} host crashes`);
    expect(crashes).toEqual([]);
    const child = app.host.service.child;
    expect([child.exitCode, child.signalCode]).toEqual([null, null]);
    const health = await fetch(`${app.host.url}/api/health`);
    expect(health.status).toBe(200);
    // A blocked event loop answers GET /api/health late; see STALL_BOUND_MS for why 1,000 ms.
    expect(probe.worst).toBeLessThan(STALL_BOUND_MS);
  });

  // Not the app's fault, but it hides what the app does with such a request, so it is not let pass.
  it("never makes the emulator fail", () => {
    const smallest = [...emulatorFailures].sort((a, b) => a.length - b.length).slice(0, 3);
    expect(smallest, `the emulator (dev/emulator) answered 500 to ${emulatorFailures.length} requests; the smallest`).toEqual([]);
  });
});
