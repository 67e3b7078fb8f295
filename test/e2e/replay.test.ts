import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AlertEvent } from "../../schemas/alert.js";
import type { Reading } from "../../schemas/reading.js";
import {
  DaemonProcess,
  jsonLines,
  killAllDaemons,
  makeTempDir,
  sensorctl,
  waitUntil,
} from "../support/processes.js";

const REPLAY = [
  '{"no2": 50, "co": 10}',
  '{"no2": 90, "co": 40}',
  '{"no2": 85, "co": 210}',
  '{"no2": 79, "co": 150}',
  '{"no2": "bad frame"}',
  '{"no2": 88, "co": 20}',
  '{"ts": "2026-11-26T10:40:36.123Z", "h2": 400}',
];

const CONFIG = `
[device]
id = "pi-test-1"
group = "2"

[storage]
path = "state/sensord.db"
flush_interval = "50ms"

[[sensors]]
id = "gas0"
driver = "replay"
interval = "10ms"
file = "replay.ndjson"

[sensors.channels.no2]
unit = "ppb"
sensor_id = "0006"
sensor_type = "9"

[[thresholds]]
gas = "no2"
value = 88
unit = "ppb"
clear = 80

[[thresholds]]
gas = "co"
value = 35
clear = 30

[[thresholds]]
gas = "co"
value = 200
clear = 180
severity = "critical"
`;

describe("sensord end to end with a replay file", () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = makeTempDir());
    writeFileSync(join(dir, "replay.ndjson"), `${REPLAY.join("\n")}\n`);
    writeFileSync(join(dir, "sensord.toml"), CONFIG);
  });
  afterEach(async () => {
    await killAllDaemons();
    cleanup();
  });

  it("stores exactly the replayed readings and the alerts they caused", async () => {
    const configFile = join(dir, "sensord.toml");
    const daemon = new DaemonProcess(["--config", configFile]);
    await daemon.waitForLog(/source exhausted/);
    const readingsOf = () =>
      jsonLines<Reading>(
        sensorctl(["--config", configFile, "readings", "--format", "json", "--limit", "1000"])
          .stdout,
      );
    await waitUntil(() => readingsOf().length >= 11, 10_000, "11 readings");

    const readings = readingsOf();
    expect(
      readings.map(({ sensor, gas, value, unit, flags }) => [sensor, gas, value, unit, flags]),
    ).toEqual([
      ["gas0", "no2", 50, "ppb", []],
      ["gas0", "co", 10, "ppm", []],
      ["gas0", "no2", 90, "ppb", []],
      ["gas0", "co", 40, "ppm", []],
      ["gas0", "no2", 85, "ppb", []],
      ["gas0", "co", 210, "ppm", []],
      ["gas0", "no2", 79, "ppb", []],
      ["gas0", "co", 150, "ppm", []],
      ["gas0", "no2", 88, "ppb", []],
      ["gas0", "co", 20, "ppm", []],
      ["gas0", "h2", 400, "ppm", []],
    ]);
    expect(readings.at(-1)?.ts).toBe("2026-11-26T10:40:36.123Z");
    const ids = readings.map((reading) => reading.id);
    expect(new Set(ids).size).toBe(11);
    const prefix = ids[0]?.split("-")[0] ?? "";
    expect(prefix).toMatch(/^[a-z2-7]{10}$/);
    expect(ids).toEqual(
      Array.from({ length: 11 }, (_, index) => `${prefix}-r${(index + 1).toString(36)}`),
    );

    const alerts = jsonLines<AlertEvent>(
      sensorctl(["--config", configFile, "alerts", "--format", "json"]).stdout,
    );
    expect(
      alerts.map(({ gas, kind, value, unit, threshold, severity }) => [
        gas,
        kind,
        value,
        unit,
        threshold,
        severity,
      ]),
    ).toEqual([
      ["no2", "raise", 90, "ppb", 88, "warning"],
      ["co", "raise", 40, "ppm", 35, "warning"],
      ["co", "raise", 210, "ppm", 200, "critical"],
      ["no2", "clear", 79, "ppb", 88, "warning"],
      ["co", "clear", 150, "ppm", 200, "critical"],
      ["no2", "raise", 88, "ppb", 88, "warning"],
      ["co", "clear", 20, "ppm", 35, "warning"],
    ]);
    // Each alert points at the reading that caused it.
    const byId = new Map(readings.map((reading) => [reading.id, reading]));
    for (const alert of alerts) expect(byId.get(alert.readingId)?.value).toBe(alert.value);

    const active = jsonLines<AlertEvent>(
      sensorctl(["--config", configFile, "alerts", "--active", "--format", "json"]).stdout,
    );
    expect(active.map(({ gas, kind, value }) => [gas, kind, value])).toEqual([
      ["no2", "raise", 88],
    ]);

    // The bad line was counted and skipped, and logged once as a state change.
    expect(daemon.log).toMatch(/degraded: sensor gas0: line 5: no2 is not a number/);
    expect(await daemon.stop("SIGTERM")).toEqual({ code: 0, signal: null });
  });

  it("prints readings as a table and as CSV", async () => {
    const configFile = join(dir, "sensord.toml");
    const daemon = new DaemonProcess(["--config", configFile]);
    await daemon.waitForLog(/source exhausted/);
    await daemon.stop();
    const csv = sensorctl(["--config", configFile, "readings", "--gas", "no2", "--format", "csv"]);
    expect(csv.code).toBe(0);
    const lines = csv.stdout.trim().split("\n");
    expect(lines[0]).toBe("ts,sensor,gas,value,unit,flags,id");
    expect(lines.slice(1).map((line) => line.split(",").slice(1, 5).join(","))).toEqual([
      "gas0,no2,50,ppb",
      "gas0,no2,90,ppb",
      "gas0,no2,85,ppb",
      "gas0,no2,79,ppb",
      "gas0,no2,88,ppb",
    ]);
    const tableOutput = sensorctl(["--config", configFile, "readings", "--limit", "2"]);
    const rows = tableOutput.stdout.trim().split("\n");
    expect(rows[0]).toMatch(/^TS\s+SENSOR\s+GAS\s+VALUE\s+UNIT\s+FLAGS\s+ID$/);
    expect(rows).toHaveLength(3);
    expect(rows[2]).toMatch(/^2026-11-26T10:40:36\.123Z\s+gas0\s+h2\s+400\s+ppm\s+\S+-rb$/);
  });

  it("commits a finished replay at once, not a flush interval later", async () => {
    // 30 s flush and values far below every default threshold: no alarm forces a
    // commit and the count stays under the early-flush cap, so only the end of
    // the file can make these readings visible before the timer fires.
    const lines = 500;
    writeFileSync(
      join(dir, "finite.ndjson"),
      `${Array.from({ length: lines }, (_, index) => JSON.stringify({ co: index / 100 })).join("\n")}\n`,
    );
    const configFile = join(dir, "finite.toml");
    writeFileSync(
      configFile,
      [
        "[storage]",
        'path = "state/finite.db"',
        'flush_interval = "30s"',
        "[[sensors]]",
        'id = "gas0"',
        'driver = "replay"',
        'interval = "0s"',
        'file = "finite.ndjson"',
      ].join("\n"),
    );
    const daemon = new DaemonProcess(["--config", configFile]);
    await daemon.waitForLog(/source exhausted/);
    const readingsOf = () =>
      jsonLines<Reading>(
        sensorctl(["--config", configFile, "readings", "--format", "json", "--limit", "1000"])
          .stdout,
      );
    // Generous for a loaded machine, and still well short of the 30 s flush.
    await waitUntil(() => readingsOf().length >= lines, 15_000, `${lines} readings`);
    expect(readingsOf().map(({ gas, value }) => [gas, value])).toEqual(
      Array.from({ length: lines }, (_, index) => ["co", index / 100]),
    );
    expect(await daemon.stop("SIGTERM")).toEqual({ code: 0, signal: null });
  });
});
