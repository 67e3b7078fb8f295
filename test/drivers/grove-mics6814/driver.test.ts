import { describe, expect, it } from "vitest";
import { DriverError } from "../../../core/errors.js";
import type { Sample } from "../../../daemon/drivers/driver.js";
import { createMicsDriver } from "../../../daemon/drivers/grove-mics6814/index.js";
import { MicsV1Board, MicsV2Board } from "../../support/i2c/boards.js";
import { EmulatedI2cBus } from "../../support/i2c/bus.js";
import { captureLog, FAST_TIMING, rejectionOf, sensorConfig } from "../../support/i2c/rig.js";

function v2Rig(options: Record<string, unknown> = {}) {
  const board = new MicsV2Board();
  const bus = new EmulatedI2cBus(1).attach(0x04, board);
  const { lines, log } = captureLog();
  const driver = createMicsDriver(
    sensorConfig("grove-mics6814", options),
    { log, openI2cBus: bus.opener },
    FAST_TIMING,
  );
  return { board, bus, driver, lines };
}

function v1Rig(options: Record<string, unknown> = {}) {
  const board = new MicsV1Board();
  const bus = new EmulatedI2cBus(1).attach(0x04, board);
  const { lines, log } = captureLog();
  const driver = createMicsDriver(
    sensorConfig("grove-mics6814", options),
    { log, openI2cBus: bus.opener },
    FAST_TIMING,
  );
  return { board, bus, driver, lines };
}

function byGas(sample: Sample | null) {
  return Object.fromEntries((sample?.values ?? []).map((value) => [value.gas, value]));
}

async function driverError(promise: Promise<unknown>): Promise<DriverError> {
  const error = await rejectionOf(promise);
  if (!(error instanceof DriverError))
    throw new Error(`expected a DriverError, got ${String(error)}`);
  return error;
}

describe("grove-mics6814 on firmware 2", () => {
  it("detects the firmware, switches the heater on, loads user R0 and reads the worked example", async () => {
    const { board, bus, driver, lines } = v2Rig();
    board.adc.co = 700;
    board.adc.no2 = 200;
    await driver.open();
    expect(board.heater).toBe(true);
    expect(board.received.slice(0, 4)).toEqual([
      [0x06, 0x00], // EEPROM word 0: firmware marker
      [0x0b, 0x01], // heater on
      [0x06, 10], // user R0, CO element
      [0x06, 12], // user R0, NO2 element
    ]);
    const values = byGas(await driver.read());
    expect(Object.keys(values)).toEqual(["co", "no2", "c2h5oh", "h2"]);
    expect(values.co).toEqual({ gas: "co", value: expect.closeTo(36.29, 2), unit: "ppm" });
    expect(values.h2).toEqual({ gas: "h2", value: expect.closeTo(18.39, 2), unit: "ppm" });
    expect(values.c2h5oh).toEqual({ gas: "c2h5oh", value: expect.closeTo(26.2, 2), unit: "ppm" });
    expect(values.no2).toEqual({ gas: "no2", value: expect.closeTo(0.199, 4), unit: "ppm" });
    // Only the elements the gases need: CO (0x02) and NO2 (0x03), never NH3 (0x01).
    expect(board.received.slice(4)).toEqual([[0x02], [0x03]]);
    expect(lines).toEqual([
      "<6>Grove MiCS-6814 board at bus 1, 0x04: firmware 2, heater on, R0 co 950 (user EEPROM), no2 155 (user EEPROM)",
    ]);
    expect(bus.overlaps).toBe(0);
    await driver.close();
    expect(bus.closes).toBe(1);
    expect(board.heater).toBe(true); // left on for the next open
  });

  it("falls back to the factory R0 when the user words are unset (0xFFFF or 0)", async () => {
    const { board, driver, lines } = v2Rig({ gases: ["co", "no2"] });
    board.eeprom.set(10, 0xffff);
    board.eeprom.set(4, 900);
    board.eeprom.set(12, 0);
    board.adc.co = 700;
    board.adc.no2 = 155;
    await driver.open();
    expect(board.received).toContainEqual([0x06, 4]);
    expect(board.received).toContainEqual([0x06, 6]);
    const values = byGas(await driver.read());
    expect(values.co?.value).toBeCloseTo(18.4078, 3); // ratio 700/900 * 123/323
    expect(values.no2?.value).toBeCloseTo(1 / 6.855, 6); // ADC equals factory R0: ratio 1
    expect(lines[0]).toContain("R0 co 900 (factory EEPROM), no2 155 (factory EEPROM)");
  });

  it("uses R0 from the config instead of the board's", async () => {
    const { board, driver, lines } = v2Rig({ gases: ["co"], r0_co: 800 });
    board.adc.co = 700;
    await driver.open();
    expect(board.received).not.toContainEqual([0x06, 10]);
    expect(board.received).not.toContainEqual([0x06, 4]);
    expect(byGas(await driver.read()).co?.value).toBeCloseTo(7.944, 3);
    expect(lines[0]).toContain("R0 co 800 (config)");
  });

  it("refuses to start without any R0 for an element it needs", async () => {
    const { board, driver } = v2Rig({ gases: ["nh3"] });
    board.eeprom.set(8, 0xffff);
    board.eeprom.delete(2);
    const error = await driverError(driver.open());
    expect(error.code).toBe("SENSORD_MICS_R0_MISSING");
    expect(error.message).toBe(
      "sensor gas0: no R0 calibration for the nh3 element (user word 65535, factory word 65535); " +
        "calibrate the board or set r0_nh3 in this sensor's config",
    );
  });

  it("rejects a configured R0 that cannot be an ADC count", async () => {
    const { driver } = v2Rig({ r0_co: 1023 });
    const error = await driverError(driver.open());
    expect(error.code).toBe("SENSORD_MICS_R0_INVALID");
    expect(error.message).toContain("r0_co = 1023 cannot be an ADC count");
  });

  it("reads NH3 and the optional hydrocarbon curves from the NH3 element when asked", async () => {
    const { board, driver } = v2Rig({ gases: ["nh3", "c3h8"] });
    await driver.open();
    const values = byGas(await driver.read());
    expect(board.received.at(-1)).toEqual([0x01]);
    expect(values.nh3).toEqual({
      gas: "nh3",
      value: expect.closeTo(0.680272, 5),
      unit: "ppm",
      outOfRange: true,
    });
    expect(values.c3h8).toEqual({ gas: "c3h8", value: 570.164, unit: "ppm", outOfRange: true });
  });

  it("flags a concentration outside the curve's window without clamping it", async () => {
    const { board, driver } = v2Rig({ gases: ["co"] });
    board.adc.co = 50;
    await driver.open();
    const co = byGas(await driver.read()).co;
    expect(co?.value).toBeCloseTo(2990.5, 1);
    expect(co?.outOfRange).toBe(true);
  });

  for (const [adc, why] of [
    [1100, "co ADC 1100 exceeds the 10-bit maximum 1023"],
    [1023, "co ADC 1023 (R0 950) gives ratio Infinity"],
    [0, "co ADC 0 (R0 950) gives ratio 0"],
  ] as const) {
    it(`reports ADC ${adc} as a bad frame`, async () => {
      const { board, driver } = v2Rig({ gases: ["co"] });
      await driver.open();
      board.adc.co = adc;
      const error = await driverError(driver.read());
      expect(error.code).toBe("SENSORD_FRAME_INVALID");
      expect(error.message).toBe(
        `sensor gas0: bad reply from 0x04 on bus 1 (read co element): ${why}`,
      );
    });
  }

  it("retries a garbled R0 word instead of silently using it", async () => {
    const { board, driver } = v2Rig({ gases: ["co"] });
    board.eeprom.set(10, 4000);
    const error = await driverError(driver.open());
    expect(error.code).toBe("SENSORD_FRAME_INVALID");
    expect(error.message).toContain("user R0 word for co reads 4000, outside 1..1022");
  });
});

describe("grove-mics6814 on firmware 1", () => {
  it("detects firmware 1, uses 0x21 for the heater, R0 from 0x12/0x13 and checksummed readings", async () => {
    const { board, bus, driver, lines } = v1Rig();
    board.r0.co = 600;
    board.rs.co = 100;
    await driver.open();
    expect(board.heater).toBe(true);
    // The two-byte EEPROM command is ignored by firmware 1; the read got 00 FF.
    expect(bus.transfers[1]?.bytes).toEqual([0x00, 0xff]);
    expect(board.received).toEqual([[0x06, 0x00], [0x21], [0x12], [0x13]]);
    const values = byGas(await driver.read());
    expect(values.co?.value).toBeCloseTo(36.2585, 3);
    expect(values.h2?.value).toBeCloseTo(18.3652, 3);
    expect(values.c2h5oh?.value).toBeCloseTo(26.1663, 3);
    expect(values.no2?.value).toBeCloseTo(1 / 6.855, 6);
    expect(board.received.slice(4)).toEqual([[0x02], [0x03]]);
    expect(lines[0]).toBe(
      "<6>Grove MiCS-6814 board at bus 1, 0x04: firmware 1, heater on, R0 co 600 (board), no2 9 (board)",
    );
  });

  it("treats an erased marker word (0xFFFF) as firmware 1", async () => {
    const { board, bus, driver } = v1Rig({ gases: ["co"] });
    bus.inject({ kind: "garbage", bytes: [0xff, 0xff] }, { op: "read" });
    await driver.open();
    expect(board.received[1]).toEqual([0x21]);
  });

  it("counts a reply with a bad checksum as a bad frame", async () => {
    const { bus, driver } = v1Rig({ gases: ["co"] });
    await driver.open();
    bus.inject({ kind: "garbage", bytes: [0x02, 0x02, 0xce, 0x00] }, { op: "read" });
    const error = await driverError(driver.read());
    expect(error.code).toBe("SENSORD_FRAME_INVALID");
    expect(error.message).toBe(
      "sensor gas0: bad reply from 0x04 on bus 1 (read co element): checksum mismatch in [02 02 ce 00]: expected d2",
    );
    const recovered = byGas(await driver.read());
    expect(recovered.co?.value).toBeCloseTo(4.385, 6); // clean air: Rs = R0
  });

  it("refuses R0 = 0 (an uncalibrated board), as Seeed's readR0() does", async () => {
    const { board, driver } = v1Rig({ gases: ["co"] });
    board.r0.co = 0;
    const error = await driverError(driver.open());
    expect(error.code).toBe("SENSORD_MICS_R0_MISSING");
    expect(error.message).toContain(
      "no R0 calibration for the co element (the board reports R0 = 0)",
    );
  });
});

describe("grove-mics6814 faults and recovery", () => {
  it("maps each fault class to its code", async () => {
    const cases = [
      { fault: { kind: "nack" } as const, code: "SENSORD_I2C_NACK" },
      { fault: { kind: "nack", errno: "ENXIO" } as const, code: "SENSORD_I2C_NACK" },
      { fault: { kind: "eio" } as const, code: "SENSORD_I2C_NACK" },
      { fault: { kind: "etimedout" } as const, code: "SENSORD_I2C_TIMEOUT" },
      { fault: { kind: "short", bytesRead: 1 } as const, code: "SENSORD_FRAME_INVALID" },
    ];
    for (const { fault, code } of cases) {
      const { bus, driver } = v2Rig({ gases: ["co"] });
      await driver.open();
      bus.inject(fault, { op: fault.kind === "short" ? "read" : "write" });
      const error = await driverError(driver.read());
      expect([fault.kind, error.code]).toEqual([fault.kind, code]);
      expect(error.message).toContain("0x04 on bus 1");
      expect(byGas(await driver.read()).co?.value).toBeCloseTo(4.385, 6);
    }
  });

  it("reports a missing bus at open and works once it appears", async () => {
    const { bus, driver } = v2Rig();
    bus.setMissing(true);
    const error = await driverError(driver.open());
    expect(error.code).toBe("SENSORD_I2C_BUS_MISSING");
    expect(error.message).toContain("I2C bus 1 not found");
    expect(bus.closes).toBe(1); // the failed open released the handle
    bus.setMissing(false);
    await driver.open();
    expect((await driver.read())?.values).toHaveLength(4);
  });

  it("times out on a stuck bus, issues nothing more until it settles, and recovers after reopen", async () => {
    const { board, bus, driver } = v2Rig({ gases: ["co"] });
    await driver.open();
    bus.inject({ kind: "stuck" }, { op: "read" });
    const timeout = await driverError(driver.read());
    expect(timeout.code).toBe("SENSORD_I2C_TIMEOUT");
    expect(timeout.message).toBe(
      "sensor gas0: no answer from 0x04 on bus 1 within 60 ms (read 2 bytes)",
    );
    await driver.close();
    const blocked = await driverError(driver.open());
    expect(blocked.code).toBe("SENSORD_I2C_TIMEOUT");
    expect(blocked.message).toContain("I2C bus 1 is still blocked");
    bus.releaseStuck();
    board.powerCycle();
    await new Promise((resolve) => setImmediate(resolve));
    await driver.open();
    expect(board.heater).toBe(true);
    expect(byGas(await driver.read()).co?.value).toBeCloseTo(4.385, 6);
    expect(bus.overlaps).toBe(0);
    expect(bus.afterClose).toBe(0);
  });

  it("recovers when an unplugged board comes back, switching its heater on again", async () => {
    const { board, bus, driver, lines } = v2Rig({ gases: ["co"] });
    await driver.open();
    bus.unplug(0x04);
    const error = await driverError(driver.read());
    expect(error.code).toBe("SENSORD_I2C_NACK");
    expect(error.message).toBe(
      "sensor gas0: no device answered at 0x04 on bus 1 (EREMOTEIO during write [02]): check the " +
        "wiring and power, and that the address matches the board (i2cdetect -y 1)",
    );
    await driver.close();
    board.powerCycle();
    bus.plug(0x04);
    await driver.open();
    expect(board.heater).toBe(true);
    expect(byGas(await driver.read()).co?.value).toBeCloseTo(4.385, 6);
    expect(lines).toHaveLength(1); // firmware and R0 unchanged: logged once
  });
});
