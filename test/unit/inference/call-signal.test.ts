import { describe, expect, it, vi } from "vitest";
import { CallSignal } from "../../../src/inference/call-signal.js";

describe("CallSignal", () => {
  it("aborts on its timeout and reports upstream_timeout", () => {
    vi.useFakeTimers();
    try {
      const call = new CallSignal(1_000);
      expect(call.signal.aborted).toBe(false);
      vi.advanceTimersByTime(1_000);
      expect(call.signal.aborted).toBe(true);
      expect(call.failure()).toMatchObject({ kind: "timeout", status: 504, code: "upstream_timeout" });
    } finally {
      vi.useRealTimers();
    }
  });

  it("never runs past its deadline, however the timer is re-armed", () => {
    vi.useFakeTimers();
    try {
      const call = new CallSignal(10_000, undefined, Date.now() + 1_000);
      vi.advanceTimersByTime(600);
      call.rearm(10_000);
      vi.advanceTimersByTime(399);
      expect(call.signal.aborted).toBe(false);
      vi.advanceTimersByTime(1);
      expect(call.failure()).toMatchObject({ code: "upstream_timeout" });
    } finally {
      vi.useRealTimers();
    }
  });

  it("re-arming with the same delay restarts it from now, also after the timer was disposed", () => {
    vi.useFakeTimers();
    try {
      const call = new CallSignal(1_000);
      vi.advanceTimersByTime(800);
      call.rearm(1_000);
      vi.advanceTimersByTime(800);
      expect(call.signal.aborted).toBe(false);
      call.dispose();
      vi.advanceTimersByTime(5_000);
      expect(call.signal.aborted).toBe(false);
      call.rearm(1_000);
      vi.advanceTimersByTime(999);
      expect(call.signal.aborted).toBe(false);
      vi.advanceTimersByTime(1);
      expect(call.failure()).toMatchObject({ code: "upstream_timeout" });
    } finally {
      vi.useRealTimers();
    }
  });

  it("reports a caller's deadline (a TimeoutError reason) as a timeout", () => {
    const caller = new AbortController();
    const call = new CallSignal(60_000, caller.signal);
    caller.abort(new DOMException("deadline", "TimeoutError"));
    expect(call.failure()).toMatchObject({ code: "upstream_timeout", status: 504 });
    call.dispose();
  });

  it("follows the caller's signal and reports aborted", () => {
    const caller = new AbortController();
    const call = new CallSignal(60_000, caller.signal);
    caller.abort();
    expect(call.signal.aborted).toBe(true);
    expect(call.failure()).toMatchObject({ kind: "aborted", code: "aborted" });
    call.dispose();
  });

  it("starts aborted for a caller signal that already is", () => {
    const call = new CallSignal(60_000, AbortSignal.abort());
    expect(call.signal.aborted).toBe(true);
    call.dispose();
  });

  it("reports nothing while running; dispose stops watching, abort stops the call", () => {
    vi.useFakeTimers();
    try {
      const caller = new AbortController();
      const call = new CallSignal(1_000, caller.signal);
      expect(call.failure()).toBeUndefined();
      call.dispose();
      vi.advanceTimersByTime(5_000);
      caller.abort();
      expect(call.signal.aborted).toBe(false);
      call.abort();
      expect(call.signal.aborted).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it("blames the deployment for its own timeout only, not for a deadline that left it less time", () => {
    vi.useFakeTimers();
    try {
      const own = new CallSignal(1_000, undefined, Date.now() + 60_000);
      vi.advanceTimersByTime(1_000);
      expect(own.failure()).toMatchObject({ code: "upstream_timeout", blame: "deployment" });
      const cut = new CallSignal(10_000, undefined, Date.now() + 2_000);
      vi.advanceTimersByTime(2_000);
      expect(cut.failure()).toMatchObject({ code: "upstream_timeout", blame: "caller" });
      const caller = new AbortController();
      const callers = new CallSignal(10_000, caller.signal);
      caller.abort(new DOMException("deadline", "TimeoutError"));
      expect(callers.failure()).toMatchObject({ code: "upstream_timeout", blame: "caller" });
    } finally {
      vi.useRealTimers();
    }
  });
});
