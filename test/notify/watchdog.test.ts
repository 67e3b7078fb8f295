import { describe, expect, it } from "vitest";
import { watchdogPeriodMs } from "../../daemon/notify/watchdog.js";

describe("watchdogPeriodMs", () => {
  it("pings at half of WATCHDOG_USEC", () => {
    expect(watchdogPeriodMs({ WATCHDOG_USEC: "30000000" }, 42)).toBe(15_000);
    expect(watchdogPeriodMs({ WATCHDOG_USEC: "400000" }, 42)).toBe(200);
  });

  it("honours WATCHDOG_PID: the watchdog is ours only when it names us", () => {
    expect(watchdogPeriodMs({ WATCHDOG_USEC: "400000", WATCHDOG_PID: "42" }, 42)).toBe(200);
    expect(watchdogPeriodMs({ WATCHDOG_USEC: "400000", WATCHDOG_PID: "7" }, 42)).toBeNull();
  });

  it("has no watchdog when the variable is missing, zero or malformed", () => {
    expect(watchdogPeriodMs({}, 42)).toBeNull();
    expect(watchdogPeriodMs({ WATCHDOG_USEC: "0" }, 42)).toBeNull();
    expect(watchdogPeriodMs({ WATCHDOG_USEC: "" }, 42)).toBeNull();
    expect(watchdogPeriodMs({ WATCHDOG_USEC: "30s" }, 42)).toBeNull();
    expect(watchdogPeriodMs({ WATCHDOG_USEC: "-5" }, 42)).toBeNull();
  });
});
