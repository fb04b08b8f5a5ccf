import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { isIP, type LookupFunction } from "node:net";
import { hostAllowed } from "../config/host-allow-list.js";
import type { HttpToolConfig } from "../config/index.js";
import { addressAllowed } from "./address-policy.js";
import { type ServerTool, ToolError } from "./server-tool.js";

export interface HttpToolPolicy {
  allowedHosts: readonly string[];
  allowLoopback: boolean;
  maxResponseBytes: number;
}

/**
 * A tool that POSTs its arguments as JSON to an https URL (a Logic Apps request trigger, another
 * function) and gives the model the answer. Only allow-listed hosts; the address is checked after
 * DNS resolution and the connection is pinned to it; no redirect is followed; nothing is sent but
 * the arguments (none of our credentials, none of the model's headers); the answer is capped.
 */
export function httpTool(config: HttpToolConfig, policy: HttpToolPolicy): ServerTool {
  return {
    name: config.name,
    description: config.description,
    parameters: config.parameters,
    async execute(args, signal) {
      const url = new URL(config.url.reveal());
      const host = url.hostname.replace(/^\[|\]$/g, "");
      if (!hostAllowed(host, policy.allowedHosts)) throw new ToolError("The tool's host is not allow-listed.");
      // An address written in the URL is never looked up, so it is checked here; names are checked as resolved.
      if (isIP(host) && !addressAllowed(host, { allowLoopback: policy.allowLoopback })) throw new ToolError("The tool's address is not allowed.");
      const { Agent } = require("undici") as typeof import("undici");
      const agent = new Agent({ connect: { lookup: checkedLookup(policy.allowLoopback) }, pipelining: 0 });
      try {
        const response = await agent
          .request({
            origin: url.origin,
            path: `${url.pathname}${url.search}`,
            method: "POST",
            headers: { "content-type": "application/json", accept: "application/json", "user-agent": "mistral-functions-tool/0.1" },
            body: JSON.stringify(args),
            signal,
          })
          .catch((error: NodeJS.ErrnoException) => {
            throw error.code === "EADDRNOTALLOWED"
              ? new ToolError("The tool's address is not allowed.")
              : new ToolError("The tool's service could not be reached.");
          });
        if (response.statusCode >= 300 && response.statusCode < 400) {
          await response.body.dump();
          throw new ToolError(`The tool's service answered with a redirect (${response.statusCode}), which is not followed.`);
        }
        const text = await readCapped(response.body, policy.maxResponseBytes);
        if (response.statusCode >= 400) throw new ToolError(`The tool's service answered ${response.statusCode}.`);
        const type = String(response.headers["content-type"] ?? "");
        if (!type.includes("json")) return text;
        try {
          return JSON.parse(text);
        } catch {
          throw new ToolError("The tool's service answered JSON that does not parse.");
        }
      } finally {
        void agent.close();
      }
    },
  };
}

/** DNS resolution that refuses addresses the policy forbids, so the socket only ever goes to a checked address. */
function checkedLookup(allowLoopback: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, "", 0);
      const list = addresses as unknown as LookupAddress[];
      if (list.length === 0 || !list.every((a) => addressAllowed(a.address, { allowLoopback }))) {
        const refused = Object.assign(new Error("address not allowed"), { code: "EADDRNOTALLOWED" });
        return callback(refused, "", 0);
      }
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
      const first = list[0] as LookupAddress;
      return callback(null, first.address, first.family);
    });
  };
}

async function readCapped(body: AsyncIterable<Buffer> & { destroy(): void }, maxBytes: number): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of body) {
    size += part.length;
    if (size > maxBytes) {
      body.destroy();
      throw new ToolError(`The tool's answer is larger than ${maxBytes} bytes.`);
    }
    parts.push(part);
  }
  return Buffer.concat(parts).toString("utf8");
}
