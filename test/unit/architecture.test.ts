import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { edgesOf, LAYERS, violations } from "../support/layers.js";

const SRC = resolve(__dirname, "..", "..", "src");

describe("the layers of src/", () => {
  it("every import goes down: functions → http → chat, dropin → inference, tools → quotas → … → lib", () => {
    expect(violations(edgesOf(SRC))).toEqual([]);
  });

  it("gives every top-level folder and file of src/ a layer", () => {
    const placed = LAYERS.flat();
    expect(readdirSync(SRC).filter((name) => !placed.includes(name))).toEqual([]);
  });

  it("catches an import that goes up or sideways", () => {
    expect(
      violations([
        { from: join("chat", "engine.ts"), to: join("http", "sse.ts") },
        { from: join("chat", "engine.ts"), to: join("dropin", "stream-chunks.ts") },
        { from: join("lib", "problem.ts"), to: join("config", "types.ts") },
        { from: join("http", "handler.ts"), to: "runtime.ts" },
        { from: join("functions", "chat.ts"), to: join("chat", "engine.ts") },
      ]),
    ).toEqual([
      `${join("chat", "engine.ts")} -> ${join("http", "sse.ts")}`,
      `${join("chat", "engine.ts")} -> ${join("dropin", "stream-chunks.ts")}`,
      `${join("lib", "problem.ts")} -> ${join("config", "types.ts")}`,
      `${join("http", "handler.ts")} -> runtime.ts`,
    ]);
  });
});
