import { describe, expect, it } from "vitest";
import { DriverError } from "../../../core/errors.js";
import type { Sample } from "../../../daemon/drivers/driver.js";
import { createGmDriver, groveGmDriver } from "../../../daemon/drivers/grove-gm/index.js";
import { decodeGmReply, gmVolts } from "../../../daemon/drivers/grove-gm/protocol.js";
import { createMicsDriver } from "../../../daemon/drivers/grove-mics6814/index.js";
import { InvalidFrame } from "../../../daemon/drivers/i2c/errors.js";
import { GmV2Board, MicsV2Board } from "../../support/i2c/boards.js";
import { EmulatedI2cBus } from "../../support/i2c/bus.js";
import { captureLog, FAST_TIMING, rejectionOf, sensorConfig } from "../../support/i2c/rig.js";

function rig(options: Record<string, unknown> = {}) {
  const board = new GmV2Board();
  const bus = new EmulatedI2cBus(1).attach(0x08, board);
  const { lines, log } = captureLog();
  const driver = createGmDriver(
    sensorConfig("grove-gm", options),
    { log, openI2cBus: bus.opener },
    FAST_TIMING,
  );
  return { board, bus, driver, lines };
}

const values = (sample: Sample | null) => sample?.values ?? [];

describe("grove-gm protocol", () => {
  it("decodes the 4-byte little-endian reply: BC 02 00 00 -> 700 -> 2.258 V", () => {
    const adc = decodeGmReply("co", Buffer.from([0xbc, 0x02, 0x00, 0x00]));
    expect(adc).toBe(700);
    expect(gmVolts(adc)).toBeCloseTo(2.258, 3);
    expect(gmVolts(1023)).toBe(3.3);
  });

  it("rejects a value a 10-bit converter cannot produce, and short replies", () => {
    expect(() => decodeGmReply("no2", Buffer.from([0x00, 0x04, 0x00, 0x00]))).toThrow(
      new InvalidFrame("GM-102B ADC 1024 exceeds the 10-bit maximum 1023"),
    );
    expect(() => decodeGmReply("no2", Buffer.from([0xff, 0x03, 0x00, 0x01]))).toThrow(InvalidFrame);
    expect(() => decodeGmReply("no2", Buffer.from([0xbc, 0x02]))).toThrow(
      "expected 4 bytes, got 2",
    );
  });
});

describe("grove-gm driver", () => {
  it("switches the heaters on at open and reports raw ADC counts for all four elements", async () => {
    const { board, bus, driver, lines } = rig();
    board.adc.no2 = 120;
    board.adc.c2h5oh = 300;
    board.adc.voc = 450;
    board.adc.co = 700;
    await driver.open();
    expect(board.heater).toBe(true);
    expect(values(await driver.read())).toEqual([
      { gas: "no2", value: 120, unit: "raw" },
      { gas: "c2h5oh", value: 300, unit: "raw" },
      { gas: "voc", value: 450, unit: "raw" },
      { gas: "co", value: 700, unit: "raw" },
    ]);
    expect(board.received).toEqual([[0xfe], [0x01], [0x03], [0x05], [0x07]]);
    expect(bus.transfers.filter((t) => t.op === "read").map((t) => t.bytes)).toContainEqual([
      0xbc, 0x02, 0x00, 0x00,
    ]);
    expect(lines).toEqual([
      "<6>Grove Multichannel Gas V2 at bus 1, 0x08: heaters on; reporting no2, c2h5oh, voc, co as raw ADC counts (no vendor ppm curve)",
    ]);
    await driver.close();
    expect(board.heater).toBe(true);
  });

  it("reports volts for the configured subset when output = volts", async () => {
    const { board, driver } = rig({ gases: ["co", "no2"], output: "volts" });
    board.adc.co = 700;
    board.adc.no2 = 1023;
    await driver.open();
    expect(values(await driver.read())).toEqual([
      { gas: "co", value: expect.closeTo(2.258, 3), unit: "V" },
      { gas: "no2", value: 3.3, unit: "V" },
    ]);
    expect(board.received.slice(1)).toEqual([[0x07], [0x01]]);
  });

  it("counts an impossible ADC as a bad frame", async () => {
    const { board, driver } = rig({ gases: ["voc"] });
    await driver.open();
    board.adc.voc = 0x10000;
    const error = await rejectionOf(driver.read());
    expect(error).toBeInstanceOf(DriverError);
    expect(error instanceof DriverError && error.code).toBe("SENSORD_FRAME_INVALID");
    expect(error instanceof Error && error.message).toBe(
      "sensor gas0: bad reply from 0x08 on bus 1 (read GM-502B (voc)): GM-502B ADC 65536 exceeds the 10-bit maximum 1023",
    );
  });

  it("names address 0x08 when the board does not answer, and recovers when it returns", async () => {
    const { board, bus, driver } = rig({ gases: ["co"] });
    bus.unplug(0x08);
    const error = await rejectionOf(driver.open());
    expect(error instanceof DriverError && error.code).toBe("SENSORD_I2C_NACK");
    expect(error instanceof Error && error.message).toContain(
      "no device answered at 0x08 on bus 1 (EREMOTEIO during write [fe])",
    );
    bus.plug(0x08);
    board.adc.co = 5;
    await driver.open();
    expect(values(await driver.read())).toEqual([{ gas: "co", value: 5, unit: "raw" }]);
  });

  it("times out on a stuck bus", async () => {
    const { bus, driver } = rig({ gases: ["co"] });
    await driver.open();
    bus.inject({ kind: "stuck" }, { op: "read" });
    const error = await rejectionOf(driver.read());
    expect(error instanceof DriverError && error.code).toBe("SENSORD_I2C_TIMEOUT");
    bus.releaseStuck("complete");
  });
});

describe("both boards on one bus", () => {
  it("reads the MiCS-6814 board and the GM V2 board side by side without overlapping transfers", async () => {
    const mics = new MicsV2Board();
    const gm = new GmV2Board();
    mics.adc.co = 700;
    gm.adc.co = 700;
    const bus = new EmulatedI2cBus(1).attach(0x04, mics).attach(0x08, gm);
    const { log } = captureLog();
    const context = { log, openI2cBus: bus.opener };
    const micsDriver = createMicsDriver(
      sensorConfig("grove-mics6814", { gases: ["co"] }, { id: "mics" }),
      context,
      FAST_TIMING,
    );
    const gmDriver = createGmDriver(
      sensorConfig("grove-gm", { gases: ["co"] }, { id: "gm" }),
      context,
      FAST_TIMING,
    );
    await Promise.all([micsDriver.open(), gmDriver.open()]);
    for (let round = 0; round < 5; round++) {
      const [fromMics, fromGm] = await Promise.all([micsDriver.read(), gmDriver.read()]);
      expect(values(fromMics)).toEqual([
        { gas: "co", value: expect.closeTo(36.29, 2), unit: "ppm" },
      ]);
      expect(values(fromGm)).toEqual([{ gas: "co", value: 700, unit: "raw" }]);
    }
    expect(bus.overlaps).toBe(0);
    expect(mics.heater && gm.heater).toBe(true);
    // An unplugged GM board does not disturb the MiCS board next to it.
    bus.unplug(0x08);
    const [micsResult, gmResult] = await Promise.allSettled([micsDriver.read(), gmDriver.read()]);
    expect(micsResult.status).toBe("fulfilled");
    expect(gmResult.status).toBe("rejected");
  });
});

describe("grove-gm definition", () => {
  it("declares its unit per gas from the output option", () => {
    const raw = sensorConfig("grove-gm", {});
    const volts = sensorConfig("grove-gm", { gases: ["voc"], output: "volts" });
    expect(groveGmDriver.gases?.(raw)).toEqual(["no2", "c2h5oh", "voc", "co"]);
    expect(groveGmDriver.outputUnit?.(raw, "co")).toBe("raw");
    expect(groveGmDriver.outputUnit?.(volts, "voc")).toBe("V");
    expect(groveGmDriver.outputUnit?.(volts, "co")).toBeNull();
    expect(groveGmDriver.outputUnit?.(raw, "h2")).toBeNull();
  });
});
