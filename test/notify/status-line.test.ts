import { describe, expect, it } from "vitest";
import { type StatusInput, statusLine } from "../../daemon/notify/status-line.js";
import type { SensorState } from "../../daemon/sampler/running-sensor.js";

type Sync = NonNullable<StatusInput["sync"]>;

function sensor(id: string, state: SensorState): StatusInput["sensors"][number] {
  return {
    id,
    driver: "sim",
    state,
    warmupLeftMs: 0,
    samples: 0,
    overruns: 0,
    errors: {},
    lastError: null,
    lastTickAt: 0,
    driverCallSince: null,
  };
}

function status(overrides: Partial<StatusInput> = {}): StatusInput {
  return {
    sensors: ["gas0", "gas1", "gas2", "gas3"].map((id) => sensor(id, "ok")),
    recorder: {
      pending: 0,
      committed: 12_345,
      droppedInMemory: 0,
      droppedByRetention: 0,
      lastFlushError: null,
      lastCommitAt: null,
      rejectedValues: 0,
    },
    activeAlarms: [],
    sync: null,
    ...overrides,
  };
}

function sync(overrides: Partial<Sync>): Sync {
  return {
    state: "idle",
    endpoint: "http://127.0.0.1:1/ingest",
    lastSuccessAt: 1,
    lastError: null,
    lastErrorAt: null,
    nextAttemptAt: null,
    consecutiveFailures: 0,
    uploadedTotal: 0,
    requests: 0,
    readingsPerSecond: 0,
    queue: { pending: 0, oldestPendingTsMs: null, quarantinedBatches: 0, quarantinedReadings: 0 },
    quarantined: [],
    ...overrides,
  } as Sync;
}

describe("statusLine", () => {
  it("summarises a healthy daemon in one line", () => {
    expect(statusLine(status(), { healthy: true })).toBe(
      "4 sensors ok, 12,345 readings stored, 0 alarms",
    );
  });

  it("groups sensor states, good news first", () => {
    const line = statusLine(
      status({
        sensors: [
          sensor("a", "down"),
          sensor("b", "ok"),
          sensor("c", "ok"),
          sensor("d", "warming"),
        ],
      }),
      { healthy: true },
    );
    expect(line).toBe("4 sensors: 2 ok, 1 warming, 1 down, 12,345 readings stored, 0 alarms");
  });

  it("counts one sensor and one alarm in the singular", () => {
    const line = statusLine(
      status({
        sensors: [sensor("gas0", "ok")],
        activeAlarms: [{} as StatusInput["activeAlarms"][number]],
      }),
      { healthy: true },
    );
    expect(line).toBe("1 sensor ok, 12,345 readings stored, 1 alarm");
  });

  it("reports sync health when uploads are configured", () => {
    expect(statusLine(status({ sync: sync({}) }), { healthy: true })).toMatch(/, sync ok$/);
    expect(statusLine(status({ sync: sync({ lastSuccessAt: null }) }), { healthy: true })).toMatch(
      /, sync not run yet$/,
    );
    expect(
      statusLine(status({ sync: sync({ state: "backoff", consecutiveFailures: 3 }) }), {
        healthy: true,
      }),
    ).toMatch(/, sync failing \(3 in a row\)$/);
    expect(statusLine(status({ sync: sync({ state: "auth_failed" }) }), { healthy: true })).toMatch(
      /, sync auth failed$/,
    );
  });

  it("puts the reason the watchdog is withheld first", () => {
    const line = statusLine(status(), {
      healthy: false,
      reasons: ["sensor gas1 stuck in a driver call for 9.0 s (limit 8.0 s)"],
    });
    expect(line).toBe(
      "UNHEALTHY: sensor gas1 stuck in a driver call for 9.0 s (limit 8.0 s) | 4 sensors ok, 12,345 readings stored, 0 alarms",
    );
  });
});
