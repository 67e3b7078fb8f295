import { Value } from "@sinclair/typebox/value";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../../core/logger.js";
import { serialOpenError } from "../../../daemon/drivers/serial/port.js";
import { winsenZeDriver, winsenZeSettings } from "../../../daemon/drivers/winsen-ze/index.js";
import type { SensorConfig } from "../../../schemas/config-types.js";
import { WinsenZeOptionsSchema } from "../../../schemas/drivers/winsen-ze.js";

const log = createLogger({ level: "error", journald: true, write: () => {} });

function sensor(options: Record<string, unknown>): SensorConfig {
  return { id: "co0", driver: "winsen-ze", intervalMs: 1000, warmupMs: 0, channels: {}, options };
}

describe("serial open errors and the driver definition", () => {
  it("maps permission and busy errors to the fix", () => {
    const byCode = serialOpenError(
      "co0",
      "/dev/ttyS0",
      Object.assign(new Error("x"), { code: "EACCES" }),
    );
    const byText = serialOpenError(
      "co0",
      "/dev/ttyS0",
      new Error("Error: Permission denied, cannot open /dev/ttyS0"),
    );
    for (const error of [byCode, byText]) {
      expect(error.code).toBe("SENSORD_SERIAL_PERMISSION");
      expect(error.message).toMatch(/add the service user to the dialout group/);
    }
    const busy = serialOpenError(
      "co0",
      "/dev/ttyS0",
      new Error("Error Resource temporarily unavailable Cannot lock port"),
    );
    expect(busy.code).toBe("SENSORD_SERIAL_BUSY");
  });

  it("declares its options, defaults and gas", () => {
    expect(winsenZeDriver.name).toBe("winsen-ze");
    expect([winsenZeDriver.defaultIntervalMs, winsenZeDriver.defaultWarmupMs]).toEqual([
      1000, 30_000,
    ]);
    expect(winsenZeDriver.allowsFullSpeed).toBe(false);
    expect(winsenZeDriver.gases?.(sensor({ port: "/dev/serial0", gas: "h2s" }))).toEqual(["h2s"]);
    const schema = WinsenZeOptionsSchema;
    expect(Value.Check(schema, { port: "/dev/serial0", gas: "co" })).toBe(true);
    expect(
      Value.Check(schema, {
        port: "/dev/serial0",
        gas: "co",
        mode: "qa",
        model: "ze03",
        baud: 9600,
      }),
    ).toBe(true);
    expect(Value.Check(schema, { port: "/dev/serial0" })).toBe(false);
    expect(Value.Check(schema, { port: "/dev/serial0", gas: "co", mode: "passive" })).toBe(false);
    const settings = winsenZeSettings(sensor({ port: "/dev/serial0", gas: "co" }), log);
    expect(settings).toMatchObject({
      baudRate: 9600,
      mode: "active",
      model: "ze07",
      decimals: null,
      timeoutMs: 2500,
    });
    const all = sensor({
      port: "/dev/ttyUSB0",
      gas: "no2",
      baud: 19200,
      mode: "qa",
      model: "ze03",
      decimals: 2,
      timeout: "250ms",
    });
    expect(Value.Check(schema, all.options)).toBe(true);
    const { log: _log, ...explicit } = winsenZeSettings(all, log);
    expect(explicit).toEqual({
      sensor: "co0",
      port: "/dev/ttyUSB0",
      baudRate: 19200,
      mode: "qa",
      gas: "no2",
      model: "ze03",
      decimals: 2,
      timeoutMs: 250,
    });
    expect(winsenZeDriver.check?.(all, "sensors[0]", "/")).toEqual([]);
    expect(
      winsenZeDriver.check?.(sensor({ port: "/dev/serial0", timeout: "0s" }), "sensors[0]", "/"),
    ).toEqual([
      { key: "sensors[0].timeout", message: expect.stringMatching(/not a positive duration/) },
    ]);
    expect(winsenZeDriver.check?.(sensor({ port: "serial0" }), "sensors[1]", "/")).toEqual([
      {
        key: "sensors[1].port",
        message:
          '"serial0" is not an absolute device path; use e.g. "/dev/serial0" or "/dev/ttyUSB0"',
      },
    ]);
  });
});
