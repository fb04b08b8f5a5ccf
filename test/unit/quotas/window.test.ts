import { describe, expect, it } from "vitest";
import { retryAfterSeconds, windowEndMs, windowOf, windowStartMs } from "../../../src/quotas/window.js";

const at = (iso: string) => Date.parse(iso);

describe("windowOf", () => {
  it("names the UTC minute, zero-padded, whatever the seconds", () => {
    expect(windowOf(at("2026-11-26T11:55:00.000Z"))).toBe("202611261155");
    expect(windowOf(at("2026-11-26T11:55:59.999Z"))).toBe("202611261155");
    expect(windowOf(at("2026-11-26T11:56:00.000Z"))).toBe("202611261156");
    expect(windowOf(at("2027-01-02T03:04:05.000Z"))).toBe("202701020304");
  });

  it("uses UTC, not the local offset", () => {
    expect(windowOf(at("2026-11-26T23:30:00+02:00"))).toBe("202611262130");
  });

  it("sorts as time does, across hours, days and years", () => {
    const times = ["2026-12-31T23:59:00Z", "2027-01-01T00:00:00Z", "2027-01-01T00:10:00Z", "2027-01-01T01:00:00Z"].map(at);
    const stamps = times.map(windowOf);
    expect([...stamps].sort()).toEqual(stamps);
  });

  it("refuses a time that has no four-digit year", () => {
    expect(() => windowOf(Number.NaN)).toThrow(RangeError);
    expect(() => windowOf(at("0999-01-01T00:00:00Z"))).toThrow(RangeError);
  });
});

describe("windowStartMs and windowEndMs", () => {
  it("round-trip a stamp to its minute and the minute after", () => {
    expect(windowStartMs("202611261155")).toBe(at("2026-11-26T11:55:00Z"));
    expect(windowEndMs("202611261155")).toBe(at("2026-11-26T11:56:00Z"));
    expect(windowEndMs("202612312359")).toBe(at("2027-01-01T00:00:00Z"));
  });

  it.each(["", "20261126115", "2026112611555", "202613261155", "202602301155", "202611262400", "202611261160", "2026-11-26T1", "20261126115a"])(
    "refuses %j, which names no minute",
    (stamp) => {
      expect(() => windowStartMs(stamp)).toThrow(RangeError);
    },
  );
});

describe("retryAfterSeconds", () => {
  const window = "202611261155";

  it("counts whole seconds to the window's end, rounded up", () => {
    expect(retryAfterSeconds(window, at("2026-11-26T11:55:00.000Z"))).toBe(60);
    expect(retryAfterSeconds(window, at("2026-11-26T11:55:29.800Z"))).toBe(31);
    expect(retryAfterSeconds(window, at("2026-11-26T11:55:30.000Z"))).toBe(30);
    expect(retryAfterSeconds(window, at("2026-11-26T11:55:59.001Z"))).toBe(1);
  });

  it("is never below 1, even once the window is over, nor above 60", () => {
    expect(retryAfterSeconds(window, at("2026-11-26T11:55:59.999Z"))).toBe(1);
    expect(retryAfterSeconds(window, at("2026-11-26T11:56:30.000Z"))).toBe(1);
    expect(retryAfterSeconds(window, at("2026-11-26T11:54:00.000Z"))).toBe(60);
  });
});
