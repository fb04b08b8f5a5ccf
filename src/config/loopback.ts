const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** Plain http to this machine: allowed for local stand-ins (emulator, Azurite, test servers) only. */
export function isPlainLocal(url: URL): boolean {
  return url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname);
}
