import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { freePort, portIsFree } from "../../../dev/stack/processes.js";

describe("freePort", () => {
  it("gives ports below the ephemeral range, which outgoing connections never take, that a server can bind", async () => {
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(20_000);
      expect(port).toBeLessThan(32_768);
    }
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(ports[0], "127.0.0.1", resolve));
    expect(await portIsFree(ports[0] as number)).toBe(false);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(await portIsFree(ports[0] as number)).toBe(true);
  });
});
