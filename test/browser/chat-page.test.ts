import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";

/**
 * The chat page in Chromium, as a user uses it: signed in through the local issuer's real sign-in flow (MSAL.js
 * with PKCE), answers streamed from /api/chat/stream, server-run tool calls shown, Stop, a throttled model, and
 * model output that tries to run script. Debian's chromium (`.ci/run` installs it); skipped, saying so, without it.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARTIFACTS = resolve(__dirname, "..", "..", "artifacts", "screenshots");
const present = existsSync(CHROMIUM);
if (!present) console.warn(`browser tests did not run: no Chromium at ${CHROMIUM} (apt-get install chromium)`);

let browser: Browser;
let context: BrowserContext;
let page: Page;
const consoleErrors: string[] = [];
const dialogs: string[] = [];
const pageUrl = inject("pageUrl");
const emulatorUrl = inject("emulatorUrl");

async function newPage(viewport = { width: 1280, height: 800 }): Promise<Page> {
  const opened = await context.newPage();
  await opened.setViewportSize(viewport);
  opened.on("console", (message) => {
    // The browser's own line for a response with an error status (the 401 of a signed-out call, a forced
    // 429) is not the page's: what the page does with the answer is what these tests check.
    if (message.type() === "error" && !/^Failed to load resource: the server responded with a status of (401|429)/.test(message.text())) {
      consoleErrors.push(message.text());
    }
  });
  opened.on("pageerror", (error) => consoleErrors.push(`uncaught: ${error.message}`));
  opened.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  return opened;
}

/** The log's entries, each as "label: text". */
async function entries(target: Page): Promise<string[]> {
  return target
    .locator('[role="log"] article')
    .evaluateAll((items) => items.map((item) => `${item.querySelector("h2")?.textContent}: ${item.querySelector(".body")?.textContent}`));
}

async function send(target: Page, text: string): Promise<void> {
  await target.getByLabel("Message").fill(text);
  await target.getByLabel("Message").press("Enter");
}

describe.skipIf(!present)("the chat page", () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    // The local issuer's certificate is from a throwaway CA, as a developer accepts it once in their browser.
    context = await browser.newContext({ ignoreHTTPSErrors: true });
    page = await newPage();
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
  });
  // No flow leaves an error in the console or an uncaught exception.
  afterEach(() => {
    const errors = consoleErrors.splice(0);
    expect(errors).toEqual([]);
  });

  it("cannot call the API signed out: no composer, and the API refuses the page's requests", async () => {
    await page.goto(pageUrl);
    await expect.poll(() => page.locator("#user").textContent()).toBe("Not signed in");
    expect(await page.getByLabel("Message").isVisible()).toBe(false);
    const { apiBaseUrl } = (await (await fetch(`${pageUrl}config.json`)).json()) as { apiBaseUrl: string };
    const status = await page.evaluate(async (api) => (await fetch(`${api}/info`)).status, apiBaseUrl);
    expect(status).toBe(401);
  });

  it("signs in through the issuer's sign-in page, and shows the user's name", async () => {
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByLabel("User name").fill("ada");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL((url) => url.href.startsWith(pageUrl));
    await expect.poll(() => page.locator("#user").textContent(), { timeout: 15_000 }).toBe("ada");
    await expect.poll(() => page.locator("#model option").count()).toBeGreaterThan(0);
  });

  it("streams an answer, which grows in several steps before it completes", async () => {
    const lengths: number[] = [];
    await send(page, "How many languages are in the world?");
    const answer = page.locator(".entry.assistant .body").last();
    await answer.waitFor();
    for (let i = 0; i < 200 && (await page.locator("#stop").isVisible()); i++) {
      lengths.push((await answer.textContent())?.length ?? 0);
      await page.waitForTimeout(20);
    }
    const steps = new Set(lengths.filter((n) => n > 0));
    expect(steps.size).toBeGreaterThanOrEqual(3);
    expect((await answer.textContent())?.length).toBeGreaterThan(Math.max(...lengths, 0) - 1);
    expect(await answer.textContent()).toMatch(/languages/i);
    await page.screenshot({ path: join(ARTIFACTS, "chat-1280x800.png") });
  });

  it("shows a server-run tool's call and result before the answer", async () => {
    await page.getByLabel("Flight tool").check();
    await send(page, "When is the next flight from Miami to Seattle?");
    await expect.poll(() => page.locator("#stop").isVisible(), { timeout: 15_000 }).toBe(false);
    const log = await entries(page);
    const call = log.findIndex((e) => e.startsWith("Tool call: get_flight_info") && e.includes("Miami") && e.includes("Seattle"));
    const result = log.findIndex((e) => e.startsWith("Tool result: get_flight_info"));
    const answer = log.findLastIndex((e) => e.startsWith("Mistral:"));
    expect(call).toBeGreaterThan(-1);
    expect(result).toBeGreaterThan(call);
    expect(answer).toBeGreaterThan(result);
    await page.getByLabel("Flight tool").uncheck();
  });

  it("stops a streaming answer with Stop", async () => {
    await send(page, `Tell me a long story, please. ${"Once upon a time ".repeat(10)}`);
    await page.locator(".entry.assistant .body").last().waitFor();
    await page.getByRole("button", { name: "Stop" }).click();
    await expect.poll(async () => (await entries(page)).at(-1)).toBe("Problem: Stopped.");
    expect(await page.getByRole("button", { name: "Send" }).isEnabled()).toBe(true);
  });

  it("says when to try again when the model is throttled", async () => {
    await fetch(`${emulatorUrl}/_emulator/faults`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      // Longer than the request's deadline, so the app does not wait it out but answers 429 at once.
      body: JSON.stringify({ faults: [{ status: 429, headers: { "retry-after": "600" } }] }),
    });
    await send(page, "Are you there?");
    await expect.poll(async () => (await entries(page)).at(-1), { timeout: 15_000 }).toMatch(/^Problem: .*Try again in 600 seconds\. \(request id [\w-]+\)$/);
  });

  it("never runs script from model output: an img onerror and a javascript: link stay inert", async () => {
    await send(page, "Echo this: <img src=x onerror=alert(1)> and [click me](javascript:alert(2)) <script>alert(3)</script>");
    const answer = page.locator(".entry.assistant .body").last();
    await expect.poll(async () => (await entries(page)).at(-1), { timeout: 15_000 }).toMatch(/^Mistral: .*Echo this/);
    await expect.poll(() => page.locator("#stop").isVisible(), { timeout: 15_000 }).toBe(false);
    expect(await answer.locator("img, script").count()).toBe(0);
    expect(await answer.locator('a[href^="javascript"]').count()).toBe(0);
    // The model's HTML is shown as the text it is.
    expect(await answer.textContent()).toContain("<img src=x onerror=alert(1)>");
    await page.waitForTimeout(300);
    expect(dialogs).toEqual([]);
  });

  it("works on a phone-sized screen, with the keyboard alone", async () => {
    // The same tab (MSAL keeps the session per tab, in session storage), resized and reloaded.
    const phone = page;
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.reload();
    await expect.poll(() => phone.locator("#user").textContent(), { timeout: 15_000 }).toBe("ada");
    // The page puts the focus in the message box once it is ready: no click needed.
    await expect.poll(() => phone.evaluate("document.activeElement && document.activeElement.id")).toBe("message");
    await expect.poll(() => phone.locator("#model option").count()).toBeGreaterThan(0);
    await phone.keyboard.type("Hello from a phone");
    await phone.keyboard.press("Enter");
    await expect.poll(async () => (await entries(phone)).at(-1), { timeout: 15_000 }).toMatch(/^Mistral: .*Hello from a phone/);
    const overflow = await phone.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth");
    expect(overflow).toBeLessThanOrEqual(0);
    await phone.screenshot({ path: join(ARTIFACTS, "chat-390x844.png") });
  });
});
