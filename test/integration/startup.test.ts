import { describe, expect, inject, it } from "vitest";
import { runHostToExit } from "../support/host.js";

/** The app refuses to start on bad settings, naming every problem in one message. */
describe("start-up with bad configuration", () => {
  it("stops with one message naming every problem, and serves nothing", async () => {
    const settings = { ...inject("stackSettings") };
    delete settings.MODEL_MISTRAL_SMALL_KEY;
    settings.MODEL_MISTRAL_LARGE_ENDPOINT = "http://large.example.com";
    settings.MODEL_TIMEOUT_MS = "fast";
    const { code, output } = await runHostToExit(settings);
    expect(code).toBe(1);
    expect(output).toContain("Invalid configuration (3 problems):");
    expect(output).toContain("MODEL_MISTRAL_LARGE_ENDPOINT must use https (plain http is allowed for localhost only)");
    expect(output).toContain("MODEL_MISTRAL_SMALL_KEY is required but not set");
    expect(output).toContain("MODEL_TIMEOUT_MS must be a whole number from 1000 to 220000");
    expect(output).not.toContain("Host listening");
  });

  it("refuses to start without any model deployment", async () => {
    const { code, output } = await runHostToExit({ AzureWebJobsStorage: "UseDevelopmentStorage=true" });
    expect(code).toBe(1);
    expect(output).toContain("MODEL_DEPLOYMENTS is required but not set");
  });
});
