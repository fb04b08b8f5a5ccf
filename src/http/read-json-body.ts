import type { HttpRequest } from "@azure/functions";
import { HttpProblem } from "./problem.js";

const JSON_TYPE = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;

/**
 * The request body as JSON: 415 unless the content type is JSON, 413 as soon as it grows past
 * `limitBytes` (declared or streamed; the rest is not read), 400 when it is not valid JSON.
 */
export async function readJsonBody(request: HttpRequest, limitBytes: number): Promise<unknown> {
  if (!JSON_TYPE.test(request.headers.get("content-type") ?? "")) {
    throw new HttpProblem(415, "unsupported_media_type", "Unsupported Media Type", "Send the body as application/json.");
  }
  const length = request.headers.get("content-length");
  const declared = length === null ? Number.NaN : Number(length);
  if (declared > limitBytes) throw tooLarge(limitBytes);
  // A declared length within the limit is read in one go; otherwise the body is counted as it streams.
  const text = declared <= limitBytes ? await request.text() : await readText(request, limitBytes);
  if (text.trim() === "") throw invalidJson("The request body is empty.");
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

const tooLarge = (limit: number) =>
  new HttpProblem(413, "payload_too_large", "Payload Too Large", `The request body is larger than ${limit} bytes.`);

const invalidJson = (detail: string) => new HttpProblem(400, "invalid_json", "Bad Request", detail);
