import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type EmulatorOptions, ModelEmulator } from "../../dev/emulator/emulator.js";
import { loadScenarios } from "../../dev/emulator/scenarios.js";

export const EMULATOR_KEY = "emulator-key";

/** A model emulator of the test's own, on a free port, so injected faults reach only this test. */
export async function startEmulator(options: Partial<EmulatorOptions> = {}) {
  const emulator = new ModelEmulator({ key: EMULATOR_KEY, scenarios: loadScenarios(), ...options });
  const url = await emulator.listen(0);
  return { emulator, url, close: () => emulator.close() };
}

const FIXTURES = join(__dirname, "..", "fixtures");

/** A request or response body of the seed document's REST examples. */
export function seed(name: string): any {
  return JSON.parse(readFileSync(join(FIXTURES, "seed", `${name}.json`), "utf8"));
}

export function specExample(name: string): { parameters: Record<string, any>; responses: Record<string, any> } {
  return JSON.parse(readFileSync(join(FIXTURES, "spec-examples", `${name}.json`), "utf8"));
}

/** Splits an SSE body into its frames, checking that every frame ends with a blank line. */
export function sseFrames(text: string): string[] {
  if (!text.endsWith("\n\n")) throw new Error(`SSE body does not end with a blank line: ${JSON.stringify(text.slice(-40))}`);
  return text.slice(0, -2).split("\n\n");
}

/** The `data:` payloads of an SSE body, `[DONE]` included. */
export function sseData(text: string): string[] {
  return sseFrames(text).map((frame) => {
    if (!frame.startsWith("data: ")) throw new Error(`not a data frame: ${frame}`);
    return frame.slice("data: ".length);
  });
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "api-key": EMULATOR_KEY, ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { response, status: response.status, text, json };
}
