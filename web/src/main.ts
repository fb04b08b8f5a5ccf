import { Auth, type PageConfig } from "./auth.js";
import { ChatError, type ChatMessage, type ChatRequest, chatStream, deployments } from "./client.js";
import { renderMarkdown } from "./render.js";

/**
 * The chat page: sign in, pick a model, send a message (Enter sends, Shift+Enter is a new line), watch the
 * answer arrive (and server-run tool calls with their results), Stop it, JSON mode with the parsed result.
 * Every problem is shown in words with its request id; a 429 says when to try again.
 */
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const log = $<HTMLDivElement>("conversation");
const form = $<HTMLFormElement>("composer");
const input = $<HTMLTextAreaElement>("message");
const send = $<HTMLButtonElement>("send");
const stop = $<HTMLButtonElement>("stop");
const model = $<HTMLSelectElement>("model");
const jsonMode = $<HTMLInputElement>("json-mode");
const flightTool = $<HTMLInputElement>("flight-tool");
const status = $<HTMLParagraphElement>("status");
const user = $<HTMLSpanElement>("user");
const signIn = $<HTMLButtonElement>("sign-in");
const signOut = $<HTMLButtonElement>("sign-out");

const history: ChatMessage[] = [];
let running: AbortController | undefined;

function entry(role: "user" | "assistant" | "tool" | "problem", label: string): HTMLElement {
  const item = document.createElement("article");
  item.className = `entry ${role}`;
  const heading = document.createElement("h2");
  heading.textContent = label;
  const body = document.createElement("div");
  body.className = "body";
  item.append(heading, body);
  log.append(item);
  item.scrollIntoView({ block: "end" });
  return body;
}

function showProblem(error: unknown): void {
  const body = entry("problem", "Problem");
  if (error instanceof ChatError) {
    const wait = error.retryAfterSeconds ? ` Try again in ${error.retryAfterSeconds} seconds.` : "";
    body.textContent = `${error.message}${wait}${error.requestId ? ` (request id ${error.requestId})` : ""}`;
  } else if ((error as Error)?.name === "AbortError") {
    body.textContent = "Stopped.";
  } else {
    body.textContent = `The request failed: ${(error as Error)?.message ?? String(error)}`;
  }
}

function setRunning(controller: AbortController | undefined): void {
  running = controller;
  send.disabled = controller !== undefined;
  stop.hidden = controller === undefined;
  status.textContent = controller ? "Answering…" : "";
}

async function ask(auth: Auth, config: PageConfig, text: string): Promise<void> {
  history.push({ role: "user", content: text });
  entry("user", "You").textContent = text;
  const request: ChatRequest = {
    messages: [...history],
    ...(model.value ? { model: model.value } : {}),
    ...(jsonMode.checked ? { response_format: { type: "json_object" } } : {}),
    ...(flightTool.checked ? { server_tools: ["get_flight_info"] } : {}),
  };
  const controller = new AbortController();
  setRunning(controller);
  let answer: HTMLElement | undefined;
  let content = "";
  try {
    for await (const event of chatStream(request, { baseUrl: config.apiBaseUrl, credential: () => auth.token(), signal: controller.signal })) {
      if (event.event === "delta") {
        answer ??= entry("assistant", "Mistral");
        content += event.data.content;
        answer.innerHTML = renderMarkdown(content);
      } else if (event.event === "tool_call") {
        entry("tool", `Tool call: ${event.data.name}`).textContent = event.data.arguments;
      } else if (event.event === "tool_result") {
        entry("tool", `Tool result: ${event.data.name}`).textContent = event.data.error ?? JSON.stringify(event.data.content);
        answer = undefined;
        content = "";
      } else if (event.event === "done") {
        history.push({ role: "assistant", content: event.data.message.content });
        if (event.data.message.parsed !== undefined) {
          const parsed = entry("assistant", "Parsed JSON");
          const pre = document.createElement("pre");
          pre.textContent = JSON.stringify(event.data.message.parsed, null, 2);
          parsed.append(pre);
        }
      } else if (event.event === "error") {
        showProblem(new ChatError(event.data, undefined));
      }
    }
  } catch (error) {
    history.pop();
    showProblem(error);
  } finally {
    setRunning(undefined);
    input.focus();
  }
}

async function main(): Promise<void> {
  const config = (await (await fetch("config.json")).json()) as PageConfig;
  const auth = await Auth.create(config);
  const signedIn = auth.account !== null;
  user.textContent = signedIn ? (auth.account?.name ?? auth.account?.username ?? "") : "Not signed in";
  signIn.hidden = signedIn;
  signOut.hidden = !signedIn;
  form.hidden = !signedIn;
  signIn.addEventListener("click", () => void auth.signIn());
  signOut.addEventListener("click", () => void auth.signOut());
  if (!signedIn) return;

  try {
    const list = await deployments({ baseUrl: config.apiBaseUrl, credential: () => auth.token() });
    model.replaceChildren(...list.map((d) => new Option(`${d.alias}${d.default ? " (default)" : ""}`, d.alias, d.default, d.default)));
  } catch (error) {
    showProblem(error);
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || running) return;
    input.value = "";
    void ask(auth, config, text);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  stop.addEventListener("click", () => running?.abort());
  input.focus();
}

main().catch((error: unknown) => showProblem(error));
