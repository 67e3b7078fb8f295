import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../daemon/config/load.js";
import { FleetThresholds } from "../../daemon/fleet/thresholds.js";
import { FleetThresholdTable } from "../../daemon/store/fleet-thresholds.js";
import { openDatabase } from "../../daemon/store/open.js";
import { MACHINE } from "../config/helpers.js";
import { memoryLogger, tempDir } from "../store/helpers.js";

const SENSORS = parseConfig(
  '[thresholds_preset]\npreset = "none"\n\n[[sensors]]\nid = "gas0"\ndriver = "sim"\n',
  "/etc/sensord/sensord.toml",
  { machine: MACHINE },
).sensors;

const GOOD = {
  device: "pi-1",
  source: "group",
  version: 2,
  etag: "g2-0123abcd",
  thresholds: [{ gas: "no2", value: 80, unit: "ppb" }],
};
const BAD = {
  ...GOOD,
  source: "device",
  version: 1,
  etag: "d1-99aa99aa",
  thresholds: [{ gas: "no2", value: 1, sensor: "gas9" }],
};

describe("FleetThresholds: the daemon's side of the fetch", () => {
  let tmp: ReturnType<typeof tempDir>;
  let db: ReturnType<typeof openDatabase>;
  let log: ReturnType<typeof memoryLogger>;
  let now: number;
  const make = () => {
    const fleet = new FleetThresholds({
      table: new FleetThresholdTable(db),
      sensors: () => SENSORS,
      endpoint: "http://127.0.0.1:1/fleet/desired",
      log,
      now: () => now,
    });
    let applied = 0;
    fleet.whenApplied(() => applied++);
    return { fleet, applied: () => applied };
  };
  const warnings = () =>
    log.lines.filter((line) => line.level === "warn").map((line) => line.message);
  beforeEach(() => {
    tmp = tempDir();
    db = openDatabase(tmp.file(), { log: memoryLogger() });
    log = memoryLogger();
    now = Date.UTC(2026, 0, 1);
  });
  afterEach(() => {
    db.close();
    tmp.cleanup();
  });

  it("reports nothing before a set was fetched, then the set applied; applies a set once", () => {
    const { fleet, applied } = make();
    expect(fleet.report()).toBeNull();
    expect(fleet.lastEtag()).toBeNull();
    fleet.received(GOOD, null);
    fleet.received(GOOD, null);
    expect(applied()).toBe(1);
    expect(fleet.report()).toBe('applied;etag="g2-0123abcd"');
    expect(fleet.lastEtag()).toBe("g2-0123abcd");
    expect(fleet.layer()?.rules.map((rule) => rule.value)).toEqual([80]);
  });

  it("refuses a bad set whole, once: the layer stays, the report and If-None-Match name the refusal", () => {
    const { fleet, applied } = make();
    fleet.received(GOOD, null);
    fleet.received(BAD, null);
    fleet.received(BAD, null);
    expect(applied()).toBe(1);
    expect(fleet.layer()?.etag).toBe("g2-0123abcd");
    expect(fleet.lastEtag()).toBe("d1-99aa99aa");
    expect(fleet.report()).toMatch(
      /^refused;etag="d1-99aa99aa";reason="thresholds\[0\]\.sensor: no sensor \\"gas9\\"/,
    );
    expect(warnings()).toHaveLength(1);
    expect(fleet.status()).toMatchObject({
      refusedTotal: 1,
      refused: { etag: "d1-99aa99aa" },
      applied: { etag: "g2-0123abcd", rules: 1 },
    });
  });

  it("logs failures once per streak and keeps what it applied", () => {
    const { fleet } = make();
    fleet.received(GOOD, null);
    fleet.failed("connect ECONNREFUSED");
    fleet.failed("HTTP 503 from http://127.0.0.1:1/fleet/desired");
    expect(warnings()).toHaveLength(1);
    fleet.unchanged();
    fleet.failed("HTTP 401 from http://127.0.0.1:1/fleet/desired");
    expect(warnings()).toHaveLength(2);
    expect(fleet.layer()?.etag).toBe("g2-0123abcd");
    expect(fleet.status()).toMatchObject({
      lastError: "HTTP 401 from http://127.0.0.1:1/fleet/desired",
    });
  });

  it("a new instance on the same database (a restart) runs and reports the set applied last", () => {
    make().fleet.received(GOOD, null);
    const { fleet } = make();
    expect(fleet.layer()?.rules).toHaveLength(1);
    expect(fleet.report()).toBe('applied;etag="g2-0123abcd"');
    expect(fleet.status().lastFetchAt).toBeNull();
  });

  it("a reload whose sensors no longer fit the set stops applying it and forgets its etag", () => {
    const { fleet } = make();
    fleet.received({ ...GOOD, thresholds: [{ gas: "no2", value: 80, sensor: "gas0" }] }, null);
    fleet.recheck(SENSORS);
    expect(fleet.layer()?.etag).toBe("g2-0123abcd");
    fleet.recheck([]);
    expect(fleet.layer()).toBeNull();
    expect(fleet.lastEtag()).toBeNull();
    expect(warnings()).toEqual([expect.stringContaining('no sensor "gas0"')]);
  });
});
