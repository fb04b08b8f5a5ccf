import { createParser } from "eventsource-parser";

export interface ReadEvent {
  event: string;
  data: any;
}

/**
 * Reads an SSE body with a browser-compatible parser (the EventSource parsing rules), chunk by chunk
 * as it arrives; comments (`: ping`) are collected too, in order among the events.
 */
export async function readEvents(response: Response): Promise<{ events: ReadEvent[]; comments: string[]; order: string[]; raw: string }> {
  const events: ReadEvent[] = [];
  const comments: string[] = [];
  const order: string[] = [];
  let raw = "";
  const parser = createParser({
    onEvent: (message) => {
      events.push({ event: message.event ?? "message", data: JSON.parse(message.data) });
      order.push(message.event ?? "message");
    },
    onComment: (comment) => {
      comments.push(comment.trim());
      order.push(`:${comment.trim()}`);
    },
  });
  const decoder = new TextDecoder();
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    const text = decoder.decode(chunk, { stream: true });
    raw += text;
    parser.feed(text);
  }
  return { events, comments, order, raw };
}
