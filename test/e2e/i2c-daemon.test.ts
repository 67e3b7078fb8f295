import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../../core/logger.js";
import { parseConfig } from "../../daemon/config/load.js";
import { Daemon } from "../../daemon/daemon.js";
import { openStoreReader } from "../../daemon/store/reader.js";
import type { Reading } from "../../schemas/reading.js";
import { GmV2Board, MicsV2Board } from "../support/i2c/boards.js";
import { EmulatedI2cBus } from "../support/i2c/bus.js";
import { makeTempDir, waitUntil } from "../support/processes.js";

/**
 * The real daemon (config parser, samplers, recorder, store) with both Grove
 * boards on one emulated bus: the only part not real is the I2C wire.
 */
describe("daemon with two I2C boards on one bus", () => {
  let dir: string;
  let cleanup: () => void;
  let daemon: Daemon | null = null;
  const lines: string[] = [];
  const log = createLogger({
    level: "info",
    journald: true,
    write: (line) => lines.push(line.trim()),
  });

  beforeEach(() => {
    ({ dir, cleanup } = makeTempDir());
    lines.length = 0;
  });
  afterEach(async () => {
    await daemon?.stop();
    daemon = null;
    cleanup();
  });

  const newest = (sensor: string): Map<string, Reading> => {
    const reader = openStoreReader(join(dir, "sensord.db"));
    try {
      return new Map(
        reader.readings({ sensor, limit: 20 }).map((reading) => [reading.gas, reading]),
      );
    } finally {
      reader.close();
    }
  };

  it("stores converted, calibrated and flagged values, survives a NACK storm, and raises an alarm", async () => {
    const mics = new MicsV2Board();
    mics.adc.co = 700; // with R0 950: the reference worked example, CO ~36.3 ppm
    mics.adc.no2 = 200; // with R0 155: NO2 ~0.199 ppm = ~199 ppb
    const gm = new GmV2Board();
    gm.adc.co = 700;
    const bus = new EmulatedI2cBus(1).attach(0x04, mics).attach(0x08, gm);
    const config = parseConfig(
      `
[storage]
path = "sensord.db"
flush_interval = "20ms"

[[sensors]]
id = "mics"
driver = "grove-mics6814"
interval = "20ms"
warmup = "0s"

[[sensors]]
id = "gm"
driver = "grove-gm"
interval = "20ms"
warmup = "0s"
gases = ["co", "voc"]

[sensors.channels.co]
unit = "ppm"
calibration = { slope = 0.1, offset = -5 }
`,
      join(dir, "sensord.toml"),
    );
    daemon = await Daemon.start(config, log, { openI2cBus: bus.opener });
    await waitUntil(
      () => newest("mics").size === 4 && newest("gm").size === 2,
      10_000,
      "both boards",
    );

    const micsValues = newest("mics");
    expect(micsValues.get("co")?.value).toBeCloseTo(36.3, 1);
    expect(micsValues.get("co")?.unit).toBe("ppm");
    expect(micsValues.get("no2")?.value).toBeCloseTo(199, -1);
    expect(micsValues.get("no2")?.unit).toBe("ppb");
    expect(micsValues.get("h2")?.value).toBeCloseTo(18.4, 1);
    expect(micsValues.get("c2h5oh")?.value).toBeCloseTo(26.2, 1);
    const gmValues = newest("gm");
    expect(gmValues.get("co")).toMatchObject({ value: 65, unit: "ppm" });
    expect(gmValues.get("voc")).toMatchObject({ value: 0, unit: "raw" });
    // Default safety rules: CO 36.3 >= 35 ppm raises on the MiCS sensor; NO2 199 >= 88 ppb too.
    expect(
      daemon
        .status()
        .activeAlarms.map((alarm) => `${alarm.sensor}/${alarm.rule}`)
        .sort(),
    ).toEqual(["gm/co>=35ppm:warning", "mics/co>=35ppm:warning", "mics/no2>=88ppb:warning"]);

    // The MiCS board stops answering; the GM board on the same bus keeps going.
    bus.unplug(0x04);
    await waitUntil(
      () => daemon?.status().sensors.find((sensor) => sensor.id === "mics")?.state === "down",
      15_000,
      "mics down",
    );
    const gmCount = daemon.status().sensors.find((sensor) => sensor.id === "gm")?.samples ?? 0;
    await waitUntil(
      () =>
        (daemon?.status().sensors.find((sensor) => sensor.id === "gm")?.samples ?? 0) > gmCount + 5,
      5000,
      "gm sampling on",
    );
    bus.plug(0x04);
    await waitUntil(
      () => daemon?.status().sensors.find((sensor) => sensor.id === "mics")?.state === "ok",
      20_000,
      "mics back",
    );
    expect(lines.some((line) => line.startsWith("<3>[mics] state degraded -> down"))).toBe(true);
    expect(lines.some((line) => line.startsWith("<6>[mics] state down -> ok: recovered"))).toBe(
      true,
    );
    expect(bus.overlaps).toBe(0);
  });
});
