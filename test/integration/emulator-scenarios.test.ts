import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelEmulator } from "../../dev/emulator/emulator.js";
import { loadScenarios, scenarioProblems } from "../../dev/emulator/scenarios.js";
import { postJson } from "../support/emulator.js";

/** Scripted replies from a scenario file (EMULATOR_SCENARIOS), ahead of the built-in seed rules. */
const dir = mkdtempSync(join(tmpdir(), "scenarios-"));
const file = join(dir, "scenarios.json");
writeFileSync(
  file,
  JSON.stringify({
    rules: [
      { match: { last_user_contains: "weather in", deployment: "mistral-small" }, tool_call: { name: "get_weather", arguments: { city: "Paris" } } },
      { match: { last_user_contains: "How many languages" }, content: "Scripted: about seven thousand." },
      {
        match: { last_user_contains: "overloaded" },
        error: { status: 503, body: { error: { code: "overloaded", message: "Try later." } }, headers: { "retry-after": "5" } },
      },
    ],
  }),
);

let emulator: ModelEmulator;
let url: string;

beforeAll(async () => {
  emulator = new ModelEmulator({ key: "emulator-key", scenarios: loadScenarios(file) });
  url = await emulator.listen(0);
});
afterAll(() => emulator.close());

const ask = (deployment: string, content: string, extra: Record<string, unknown> = {}) =>
  postJson(`${url}/${deployment}/chat/completions`, { messages: [{ role: "user", content }], ...extra });

describe("scenario files", () => {
  it("answer with their rules before the built-in ones", async () => {
    const { json } = await ask("mistral-large", "How many languages are in the world?");
    expect(json.choices[0].message.content).toBe("Scripted: about seven thousand.");
  });

  it("script tool calls per deployment", async () => {
    const tools = [{ type: "function", function: { name: "get_weather", parameters: { type: "object" } } }];
    const small = await ask("mistral-small", "What is the weather in Paris?", { tools });
    expect(JSON.parse(small.json.choices[0].message.tool_calls[0].function.arguments)).toEqual({ city: "Paris" });
    const large = await ask("mistral-large", "What is the weather in Paris?", { tools });
    expect(large.json.choices[0].finish_reason).toBe("stop");
  });

  it("script errors with status, body and headers", async () => {
    const { status, json, response } = await ask("mistral-large", "are you overloaded?");
    expect(status).toBe(503);
    expect(json).toEqual({ error: { code: "overloaded", message: "Try later." } });
    expect(response.headers.get("retry-after")).toBe("5");
  });

  it("are checked when loaded, naming each bad rule", () => {
    expect(scenarioProblems({ rules: [{ match: { last_user_matches: "(" }, content: "x" }, { match: { colour: "red" } }, { content: "x" }] })).toEqual([
      "rules[0].match.last_user_matches is not a valid regular expression",
      "rules[1].match.colour is not a match field",
      "rules[1] needs exactly one of content, tool_call, tool_calls or error",
      "rules[2].match must be an object",
    ]);
    expect(scenarioProblems({})).toEqual(['expected {"rules": [...]}']);
  });
});
