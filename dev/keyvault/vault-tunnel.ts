import { createServer, type IncomingMessage, type Server } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import type { Duplex } from "node:stream";

/**
 * An HTTP CONNECT proxy that tunnels to one host name only: the vault's. A vault URL has to be a subdomain
 * of the resource its challenge names (SecretClient checks `host.endsWith("." + resourceHost)`), so the
 * local vault is `https://{name}.vault.localhost:{port}`; `*.localhost` names resolve to loopback only on
 * some systems, so clients reach the vault through this tunnel (HTTPS_PROXY, honoured by every Azure SDK
 * pipeline) instead of through name resolution. TLS runs end to end inside the tunnel: the client still
 * checks the vault's certificate against the vault's host name.
 */
export class VaultTunnel {
  readonly #server: Server;
  readonly #sockets = new Set<Duplex>();

  constructor(hostName: string, port: number, target: { host: string; port: number }) {
    this.#server = createServer((req, res) => {
      // A plain request through this proxy means NO_PROXY is missing a host: say so instead of forwarding.
      res.writeHead(502, { "content-type": "text/plain" }).end(`This proxy only tunnels to ${hostName}:${port}; add other hosts to NO_PROXY.\n`);
      req.resume();
    });
    this.#server.on("connect", (req: IncomingMessage, client: Duplex, head: Buffer) => {
      this.#track(client);
      if ((req.url ?? "").toLowerCase() !== `${hostName}:${port}`) {
        client.end("HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n");
        return;
      }
      const upstream: Socket = connect(target.port, target.host, () => {
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        if (head.length > 0) upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      this.#track(upstream);
      upstream.on("error", () => client.destroy());
      client.on("error", () => upstream.destroy());
    });
  }

  /** Listens and answers the proxy URL, for HTTPS_PROXY. */
  async listen(host = "127.0.0.1"): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(0, host, () => resolve());
    });
    return `http://${host}:${(this.#server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #track(socket: Duplex): void {
    this.#sockets.add(socket);
    socket.once("close", () => this.#sockets.delete(socket));
  }
}
