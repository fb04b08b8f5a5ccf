import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { createServer, type Server } from "node:tls";

export interface TlsFront {
  /** `https://localhost:PORT`, forwarding to the plain target. */
  url: string;
  close(): Promise<void>;
}

/**
 * HTTPS in front of a plain-HTTP local service (the model emulator): TLS ends here and the bytes go on
 * to `targetPort` unchanged. For what only works over HTTPS, like Entra ID bearer tokens, which the
 * Azure SDK refuses to send over plain HTTP.
 */
export async function startTlsFront(targetPort: number, certificate: { key: string; cert: string }): Promise<TlsFront> {
  const server: Server = createServer(certificate, (secure) => {
    const plain = connect(targetPort, "127.0.0.1");
    secure.pipe(plain).pipe(secure);
    const close = () => {
      secure.destroy();
      plain.destroy();
    };
    secure.on("error", close).on("close", close);
    plain.on("error", close).on("close", close);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return { url: `https://localhost:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
