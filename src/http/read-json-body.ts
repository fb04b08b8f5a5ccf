import type { HttpRequest } from "@azure/functions";
import { HttpProblem } from "../lib/problem.js";

const JSON_TYPE = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;

/**
 * Far deeper than any chat request (a JSON Schema inside a tool inside a message is about ten), and
 * far below what overflows the stack when a body is serialised again (about 10,000 levels).
 */
export const MAX_JSON_DEPTH = 64;

/**
 * The request body as JSON: 415 unless the content type is JSON, 413 as soon as it grows past
 * `limitBytes` (declared or streamed; the rest is not read), 400 when it is not valid JSON.
 */
export async function readJsonBody(request: HttpRequest, limitBytes: number): Promise<unknown> {
  if (!JSON_TYPE.test(request.headers.get("content-type") ?? "")) {
    throw new HttpProblem({ status: 415, code: "unsupported_media_type", title: "Unsupported Media Type", detail: "Send the body as application/json." });
  }
  const length = request.headers.get("content-length");
  const declared = length === null ? Number.NaN : Number(length);
  if (declared > limitBytes) throw tooLarge(limitBytes);
  // A declared length within the limit is read in one go; otherwise the body is counted as it streams.
  const text = declared <= limitBytes ? await request.text() : await readText(request, limitBytes);
  if (text.trim() === "") throw invalidJson("The request body is empty.");
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) throw invalidJson(`The request body nests deeper than ${MAX_JSON_DEPTH} levels.`);
  try {
    return JSON.parse(text);
  } catch {
    throw invalidJson("The request body is not valid JSON.");
  }
}

async function readText(request: HttpRequest, limitBytes: number): Promise<string> {
  const body = request.body;
  if (!body) return "";
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limitBytes) {
      // Stop reading, but leave the connection alone: cancelling would destroy the socket before the
      // 413 is written. The server discards the rest of the body once the response has ended.
      reader.releaseLock();
      throw tooLarge(limitBytes);
    }
    parts.push(value);
  }
  return Buffer.concat(parts).toString("utf8");
}

/** Counts brackets outside strings: one pass, no parse, so a hostile body costs no more than its length. */
export function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

const tooLarge = (limit: number) =>
  new HttpProblem({ status: 413, code: "payload_too_large", title: "Payload Too Large", detail: `The request body is larger than ${limit} bytes.` });

const invalidJson = (detail: string) => new HttpProblem({ status: 400, code: "invalid_json", title: "Bad Request", detail });
