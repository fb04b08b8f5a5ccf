import { isIP } from "node:net";
import ipaddr from "ipaddr.js";

/**
 * Azure's platform addresses: the wire server (DHCP, DNS, health probes, VM agent) and the instance
 * metadata service, which hands out managed-identity tokens. ipaddr.js calls the wire server plain
 * "unicast", so it has to be named here; the metadata address is link-local and named for the record.
 */
const AZURE_PLATFORM_ADDRESSES: ReadonlySet<string> = new Set(["168.63.129.16", "169.254.169.254"]);

/**
 * IPv6 prefixes that carry an IPv4 address (IPv4-compatible, NAT64, 6to4, Teredo), so could reach a
 * private or metadata address through a translator. ipaddr.js calls ::/96 "unicast"; the others it
 * names already, and are listed so the refusal does not rest on its naming.
 */
const IPV4_EMBEDDING: readonly [ipaddr.IPv6, number][] = (
  [
    ["::", 96],
    ["64:ff9b::", 96],
    ["64:ff9b:1::", 48],
    ["2002::", 16],
    ["2001::", 32],
  ] as const
).map(([network, prefix]) => [ipaddr.IPv6.parse(network), prefix]);

/**
 * ipaddr.js reads `::a.b.c.d` as the IPv4-mapped `::ffff:a.b.c.d`, but the socket layer reads it as the
 * IPv4-compatible `::a.b.c.d` (in ::/96), so that spelling is refused before ipaddr.js sees it.
 */
const IPV4_COMPATIBLE_DOTTED = /^::\d{1,3}(?:\.\d{1,3}){3}(?:%.*)?$/;

/**
 * Whether a resolved address may be connected to: only public unicast, never an Azure platform
 * address, loopback only when local development allows it. An IPv4 address written as IPv6
 * (::ffff:a9fe:a9fe) is judged as the IPv4 address it carries.
 */
export function addressAllowed(address: string, options: { allowLoopback: boolean }): boolean {
  // Only what the socket layer itself takes as an address literal: ipaddr.js also accepts spellings
  // (127.1, 0x7f.0.0.1, ::ffff:0177.0.0.1) that other parsers read as a different address.
  if (isIP(address) === 0 || IPV4_COMPATIBLE_DOTTED.test(address) || !ipaddr.isValid(address)) return false;
  const parsed = ipaddr.process(address);
  const range = parsed.range();
  if (range === "loopback") return options.allowLoopback;
  if (range !== "unicast") return false;
  if (parsed.kind() === "ipv6") return !IPV4_EMBEDDING.some((subnet) => parsed.match(subnet));
  return !AZURE_PLATFORM_ADDRESSES.has(parsed.toString());
}
