import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { I2cBusOpener } from "../../daemon/drivers/i2c/bus.js";
import { probe } from "../../daemon/probe/probe.js";
import { GmV2Board, MicsV1Board, MicsV2Board } from "../support/i2c/boards.js";
import { EmulatedI2cBus } from "../support/i2c/bus.js";
import { makeTempDir, sensordSync } from "../support/processes.js";

/** A /dev of our own: empty files stand for device nodes, the emulators answer the bus traffic. */
function fakeDev(dir: string, names: string[]): string {
  const dev = join(dir, "dev");
  mkdirSync(dev, { recursive: true });
  for (const name of names) writeFileSync(join(dev, name), "");
  return dev;
}

function openerFor(buses: EmulatedI2cBus[]): I2cBusOpener {
  return async (busNumber) => {
    const bus = buses.find((candidate) => candidate.busNumber === busNumber);
    if (!bus) throw Object.assign(new Error(`ENOENT: /dev/i2c-${busNumber}`), { code: "ENOENT" });
    return bus.opener(busNumber);
  };
}

describe("sensord probe", () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = makeTempDir());
  });
  afterEach(() => cleanup());

  it("finds both boards and their firmware, lists serial ports, and prints a config snippet", async () => {
    const dev = fakeDev(dir, ["i2c-1", "i2c-3", "ttyUSB0", "ttyAMA0"]);
    symlinkSync(join(dev, "ttyAMA0"), join(dev, "serial0"));
    const bus1 = new EmulatedI2cBus(1)
      .attach(0x04, new MicsV2Board())
      .attach(0x08, new GmV2Board());
    const bus3 = new EmulatedI2cBus(3).attach(0x04, new MicsV1Board());
    const report = await probe(null, { openI2cBus: openerFor([bus1, bus3]), devDir: dev });
    expect(report).toContain(
      [
        "I2C bus 1 (/dev/i2c-1):",
        "  0x04  Grove Multichannel Gas Sensor v1 (MiCS-6814), firmware 2",
        "  0x08  Grove Multichannel Gas Sensor V2 (GM-102B/302B/502B/702B)",
        "I2C bus 3 (/dev/i2c-3):",
        "  0x04  Grove Multichannel Gas Sensor v1 (MiCS-6814), firmware 1",
        "Serial ports:",
        `  ${join(dev, "serial0")} -> ${join(dev, "ttyAMA0")}`,
        `  ${join(dev, "ttyAMA0")}`,
        `  ${join(dev, "ttyUSB0")}`,
      ].join("\n"),
    );
    expect(report).toContain(
      '[[sensors]]\nid = "mics0"\ndriver = "grove-mics6814"\nbus = 1\naddress = 0x04\n',
    );
    expect(report).toContain(
      '[[sensors]]\nid = "gm1"\ndriver = "grove-gm"\nbus = 1\naddress = 0x08\n',
    );
    expect(report).toContain(
      '[[sensors]]\nid = "mics2"\ndriver = "grove-mics6814"\nbus = 3\naddress = 0x04\n',
    );
    expect(report).toContain(`# port = "${join(dev, "serial0")}"`);
  });

  it("scans only the bus asked for, and says nothing found on an empty bus", async () => {
    const dev = fakeDev(dir, ["i2c-1", "i2c-3"]);
    const bus1 = new EmulatedI2cBus(1);
    const bus3 = new EmulatedI2cBus(3).attach(0x08, new GmV2Board());
    const report = await probe(1, { openI2cBus: openerFor([bus1, bus3]), devDir: dev });
    expect(report).toBe(
      "I2C bus 1 (/dev/i2c-1):\n  nothing found at 0x04 or 0x08\nSerial ports: nothing found.\n",
    );
    expect(bus3.opens).toBe(0);
  });

  it("explains a bus it may not open", async () => {
    const dev = fakeDev(dir, ["i2c-1"]);
    const bus1 = new EmulatedI2cBus(1);
    bus1.denyAccess();
    const report = await probe(null, { openI2cBus: openerFor([bus1]), devDir: dev });
    expect(report).toMatch(
      /I2C bus 1 \(\/dev\/i2c-1\):\n {2}scan failed: .*permission denied on \/dev\/i2c-1: add the service user to the "i2c" group/,
    );
  });

  it("says nothing found on a machine with no I2C bus", async () => {
    const report = await probe(null, { openI2cBus: openerFor([]), devDir: fakeDev(dir, []) });
    expect(report).toBe(
      "I2C: no bus found (/dev/i2c-*): nothing found. Enable I2C with `sudo raspi-config nonint do_i2c 0` and reboot.\nSerial ports: nothing found.\n",
    );
  });

  it("runs as a command and exits 0; a bad --bus exits 2", () => {
    const result = sensordSync(["probe"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^I2C/);
    expect(result.stdout).toContain("Serial ports");
    const bad = sensordSync(["probe", "--bus", "one"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--bus");
  });
});
