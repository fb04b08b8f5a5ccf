import { describe, expect, it } from "vitest";
import { hostAllowed } from "../../../src/config/host-allow-list.js";
import { loadConfig } from "../../../src/config/index.js";
import { addressAllowed } from "../../../src/tools/address-policy.js";

describe("addressAllowed", () => {
  it.each([
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "127.0.0.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fd00::1",
    "fe80::1",
    "::ffff:10.0.0.1",
    "::ffff:127.0.0.1",
    "not-an-ip",
    "::a9fe:a9fe",
    "2002:a9fe:a9fe::1",
    "2001:0:4136:e378::1",
    "fec0::1",
    "64:ff9b:1::a00:1",
    "192.0.2.1",
    "203.0.113.9",
  ])("refuses %s", (address) => {
    expect(addressAllowed(address, { allowLoopback: false })).toBe(false);
  });

  it.each(["20.50.2.1", "8.8.8.8", "172.32.0.1", "2603:1030::1", "::ffff:20.50.2.1"])("allows %s", (address) => {
    expect(addressAllowed(address, { allowLoopback: false })).toBe(true);
  });

  it.each([
    // Azure's wire server and metadata service, plain and IPv4-mapped.
    "168.63.129.16",
    "::ffff:168.63.129.16",
    "::ffff:a83f:8110",
    "169.254.169.254",
    // IPv4-mapped IPv6, every spelling, judged as the IPv4 address it carries.
    "::ffff:a9fe:a9fe",
    "::ffff:169.254.169.254",
    "::FFFF:A9FE:A9FE",
    "0:0:0:0:0:ffff:7f00:1",
    "0000:0000:0000:0000:0000:ffff:127.0.0.1",
    "::0:ffff:a00:1",
    "::ffff:c0a8:101",
    // Documentation, discard-only, benchmarking and other non-unicast IPv6.
    "2001:db8::1",
    "2001:db8:ffff::",
    "100::1",
    "100::ffff:ffff:ffff:ffff",
    "2001:2::1",
    "3fff::1",
    "ff02::1",
    "::ffff:0:a9fe:a9fe",
    // IPv6 forms that embed an IPv4 address: 6to4, Teredo, NAT64 (both prefixes), IPv4-compatible.
    "2002:808:808::1",
    "2001:0:808:808::1",
    "64:ff9b::a9fe:a9fe",
    "64:ff9b::808:808",
    "64:ff9b:1::808:808",
    "::808:808",
    "::2",
    "::8.8.8.8",
    "::169.254.169.254",
    "0:0:0:0:0:0:808:808",
    // Other IPv4 special ranges.
    "198.18.0.1",
    "192.88.99.1",
    "240.0.0.1",
    // Not what the socket layer takes as an address literal.
    "",
    "127.1",
    "2130706433",
    "0x7f.0.0.1",
    "::ffff:0x7f.0.0.1",
    "::ffff:0177.0.0.1",
    " 8.8.8.8",
    "8.8.8.8 ",
    "[::1]",
    "1.2.3.256",
  ])("refuses %s", (address) => {
    expect(addressAllowed(address, { allowLoopback: false })).toBe(false);
  });

  it.each(["20.0.0.1", "8.8.8.8", "1.1.1.1", "2606:4700::1111", "2001:4860:4860::8888", "::ffff:8.8.8.8", "::ffff:808:808", "0:0:0:0:0:ffff:1400:1"])(
    "allows public %s",
    (address) => {
      expect(addressAllowed(address, { allowLoopback: false })).toBe(true);
    },
  );

  it("allows every spelling of loopback only when local development asks for it", () => {
    for (const address of ["127.0.0.1", "127.9.9.9", "::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "::ffff:7f00:1", "0:0:0:0:0:ffff:7f00:1"]) {
      expect(addressAllowed(address, { allowLoopback: false }), address).toBe(false);
      expect(addressAllowed(address, { allowLoopback: true }), address).toBe(true);
    }
    // Loopback in name only: IPv4-compatible, NAT64 and 6to4 forms of 127.0.0.1 are not this machine.
    for (const address of ["::127.0.0.1", "::7f00:1", "64:ff9b::7f00:1", "2002:7f00:1::1", "168.63.129.16", "::ffff:a9fe:a9fe"]) {
      expect(addressAllowed(address, { allowLoopback: true }), address).toBe(false);
    }
  });

  it("allows loopback, and only loopback, when local development asks for it", () => {
    expect(addressAllowed("127.0.0.1", { allowLoopback: true })).toBe(true);
    expect(addressAllowed("::1", { allowLoopback: true })).toBe(true);
    expect(addressAllowed("10.0.0.1", { allowLoopback: true })).toBe(false);
    expect(addressAllowed("169.254.169.254", { allowLoopback: true })).toBe(false);
  });
});

describe("hostAllowed", () => {
  it("matches exact names and wildcard suffixes, nothing more", () => {
    const list = ["api.example.com", "*.logic.azure.com"];
    expect(hostAllowed("api.example.com", list)).toBe(true);
    expect(hostAllowed("API.example.com.", list)).toBe(true);
    expect(hostAllowed("prod-01.eastus.logic.azure.com", list)).toBe(true);
    expect(hostAllowed("logic.azure.com", list)).toBe(false);
    expect(hostAllowed("evil-logic.azure.com", list)).toBe(false);
    expect(hostAllowed("api.example.com.evil.net", list)).toBe(false);
  });
});

describe("HTTP_TOOLS settings", () => {
  const base = {
    MODEL_DEPLOYMENTS: "m",
    MODEL_M_ENDPOINT: "https://m.example.com",
    MODEL_M_MODEL: "M",
    MODEL_M_KEY: "k",
    AzureWebJobsStorage: "UseDevelopmentStorage=true",
  };
  const tool = (extra: Record<string, unknown>) => ({ name: "lookup", description: "d", parameters: { type: "object" }, ...extra });
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig({ ...base, ...env });
      return [];
    } catch (error) {
      return (error as { problems: string[] }).problems;
    }
  };

  it("reads tools whose https URL is on an allow-listed host, the URL possibly from its own setting", () => {
    const config = loadConfig({
      ...base,
      HTTP_TOOL_ALLOWED_HOSTS: "*.logic.azure.com",
      HTTP_TOOLS: JSON.stringify([tool({ url_setting: "ORDER_TOOL_URL" })]),
      ORDER_TOOL_URL: "https://prod-1.westeurope.logic.azure.com/workflows/x/triggers/manual/paths/invoke?sig=abc",
    });
    expect(config.httpTools.tools[0]?.name).toBe("lookup");
    expect(JSON.stringify(config)).not.toContain("sig=abc");
  });

  it("names every problem with a tool definition", () => {
    expect(
      problems({
        HTTP_TOOL_ALLOWED_HOSTS: "api.example.com",
        HTTP_TOOLS: JSON.stringify([
          tool({ url: "http://api.example.com/x" }),
          tool({ url: "https://other.example.com/x" }),
          tool({ name: "bad name", url: "https://api.example.com" }),
          tool({ parameters: { type: "string" }, url: "https://api.example.com" }),
          tool({}),
        ]),
      }),
    ).toEqual([
      "HTTP_TOOLS[0]: the URL must use https",
      "HTTP_TOOLS[1]: the host other.example.com is not in HTTP_TOOL_ALLOWED_HOSTS",
      "HTTP_TOOLS[2].name must be 1 to 64 letters, digits, _ or -",
      'HTTP_TOOLS[3].parameters must be a JSON Schema with "type": "object"',
      "HTTP_TOOLS[4] needs url or url_setting",
    ]);
    expect(problems({ HTTP_TOOLS: "{nope" })).toEqual(["HTTP_TOOLS must be a JSON array of tool definitions"]);
    const broken = problems({
      HTTP_TOOL_ALLOWED_HOSTS: "api.example.com",
      HTTP_TOOLS: JSON.stringify([tool({ url: "https://api.example.com", parameters: { type: "object", properties: { a: { type: "strin" } } } })]),
    });
    expect(broken[0]).toMatch(/^HTTP_TOOLS\[0\]\.parameters is not a usable JSON Schema: /);
  });

  it("accepts plain http to this machine only when local development allows loopback", () => {
    const env = { HTTP_TOOL_ALLOWED_HOSTS: "127.0.0.1", HTTP_TOOLS: JSON.stringify([tool({ url: "http://127.0.0.1:9000/x" })]) };
    expect(problems(env)).toEqual(["HTTP_TOOLS[0]: the URL must use https"]);
    expect(problems({ ...env, HTTP_TOOLS_ALLOW_LOOPBACK: "true" })).toEqual([]);
  });
});
