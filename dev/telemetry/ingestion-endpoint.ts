import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createServer as createSecureServer } from "node:https";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";

/** One Application Insights envelope as the exporter sends it (Breeze schema). */
export interface Envelope {
  name: string;
  time: string;
  iKey?: string;
  tags?: Record<string, string>;
  data?: { baseType?: string; baseData?: Record<string, unknown> & { properties?: Record<string, string> } };
}

/**
 * A local stand-in for Application Insights' ingestion endpoint (the connection string's
 * `IngestionEndpoint`): it takes `POST /v2.1/track` (gzip or plain JSON arrays of envelopes), answers
 * as Breeze does, and keeps every envelope for tests to read. HTTPS on 127.0.0.1: the exporter always
 * sends to `https://` whatever the connection string says, so the certificate's CA must be trusted
 * by the sender (NODE_EXTRA_CA_CERTS).
 */
export class IngestionEndpoint {
  readonly #server: Server;
  readonly #envelopes: Envelope[] = [];
  /** Raw request bodies as received, decompressed: for "this text appears nowhere" checks. */
  readonly #raw: string[] = [];

  readonly #authorize: ((authorization: string | undefined) => boolean) | undefined;
  #refused = 0;

  /**
   * `authorize`, when given, decides on each request's `Authorization` header, as ingestion does for
   * a resource with local authentication off (Entra ID tokens only); refused requests get a 401.
   */
  constructor(certificate: { key: string; cert: string }, authorize?: (authorization: string | undefined) => boolean) {
    this.#authorize = authorize;
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.#handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
      });
    };
    this.#server = createSecureServer(certificate, handler);
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(0, "127.0.0.1", () => resolve());
    });
    return `https://127.0.0.1:${(this.#server.address() as AddressInfo).port}/`;
  }

  /** A connection string pointing the exporter here. */
  connectionString(url: string, instrumentationKey = "00000000-0000-0000-0000-000000000000"): string {
    return `InstrumentationKey=${instrumentationKey};IngestionEndpoint=${url}`;
  }

  envelopes(): readonly Envelope[] {
    return this.#envelopes;
  }

  /** Requests refused by `authorize`. */
  refused(): number {
    return this.#refused;
  }

  /** Everything received, as text. */
  rawText(): string {
    return this.#raw.join("\n");
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (req.method !== "POST" || !path.endsWith("/track")) {
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "not found" }));
      return;
    }
    const parts: Buffer[] = [];
    for await (const part of req) parts.push(part as Buffer);
    if (this.#authorize && !this.#authorize(req.headers.authorization)) {
      this.#refused += 1;
      res
        .writeHead(401, { "content-type": "application/json" })
        .end(JSON.stringify({ itemsReceived: 0, itemsAccepted: 0, errors: [{ index: 0, statusCode: 401, message: "Unauthorized" }] }));
      return;
    }
    let body = Buffer.concat(parts);
    if (/gzip/i.test(String(req.headers["content-encoding"] ?? ""))) body = gunzipSync(body);
    const text = body.toString("utf8");
    this.#raw.push(text);
    const trimmed = text.trim();
    // Breeze takes a JSON array, or one envelope per line.
    const items = (trimmed.startsWith("[") ? JSON.parse(trimmed) : trimmed.split("\n").map((line) => JSON.parse(line))) as Envelope[];
    this.#envelopes.push(...items);
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ itemsReceived: items.length, itemsAccepted: items.length, errors: [] }));
  }
}
