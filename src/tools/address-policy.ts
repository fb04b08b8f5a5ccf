import { BlockList, isIP } from "node:net";

/**
 * Addresses an HTTP tool may never reach: private, loopback, link-local (the cloud metadata service
 * lives there), carrier-grade NAT, multicast, reserved and unspecified ranges, IPv4 and IPv6.
 */
const blocked = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16], ["172.16.0.0", 12],
  ["192.0.0.0", 24], ["192.0.2.0", 24], ["192.168.0.0", 16], ["198.18.0.0", 15], ["198.51.100.0", 24], ["203.0.113.0", 24],
  ["224.0.0.0", 4], ["240.0.0.0", 4],
] as const) blocked.addSubnet(network, prefix, "ipv4");
// ::/96 covers the IPv4-compatible form (::a9fe:a9fe); 6to4, Teredo and NAT64 wrap IPv4 addresses too.
for (const [network, prefix] of [
  ["::", 96], ["::1", 128], ["fc00::", 7], ["fe80::", 10], ["fec0::", 10], ["ff00::", 8], ["64:ff9b::", 96], ["64:ff9b:1::", 48], ["2002::", 16], ["2001::", 32],
] as const) {
  blocked.addSubnet(network, prefix, "ipv6");
}

const loopback = new BlockList();
loopback.addSubnet("127.0.0.0", 8, "ipv4");
loopback.addAddress("::1", "ipv6");

/** Whether a resolved address may be connected to; loopback only when local development allows it. */
export function addressAllowed(address: string, options: { allowLoopback: boolean }): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  // An IPv4 address written as IPv6 (::ffff:10.0.0.1) is judged as the IPv4 address it is.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return addressAllowed(mapped, options);
  const type = family === 4 ? "ipv4" : "ipv6";
  if (options.allowLoopback && loopback.check(address, type)) return true;
  return !blocked.check(address, type);
}
