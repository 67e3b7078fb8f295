import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DriverError } from "../../../core/errors.js";
import { createLogger } from "../../../core/logger.js";
import { WinsenZeDriver, winsenZeSettings } from "../../../daemon/drivers/winsen-ze/index.js";
import type { SensorConfig } from "../../../schemas/config-types.js";
import { makeTempDir } from "../../support/processes.js";
import { SocatPair, stopAllSocat } from "../../support/serial/socat.js";
import { corrupt, uploadFrame, ZeEmulator } from "../../support/serial/ze-emulator.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = createLogger({ level: "error", journald: true, write: () => {} });

function sensor(options: Record<string, unknown>): SensorConfig {
  return {
    id: "co0",
    driver: "winsen-ze",
    intervalMs: 1000,
    warmupMs: 0,
    channels: {},
    options: { gas: "co", timeout: "600ms", ...options },
  };
}

const co = (value: number) => ({ values: [{ gas: "co", value, unit: "ppm" }] });
const hexes = (frames: Buffer[]) => frames.map((frame) => frame.toString("hex"));
/** Lets paced bytes cross the pty before the driver is asked. */
const settle = () => sleep(40);

async function failure(promise: Promise<unknown>): Promise<DriverError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DriverError) return error;
    throw error;
  }
  throw new Error("expected the promise to reject");
}

describe("winsen-ze driver over a pty", () => {
  let cleanup: () => void;
  let socat: SocatPair;
  let emulator: ZeEmulator;
  const drivers: WinsenZeDriver[] = [];
  const open = async (options: Record<string, unknown> = {}) => {
    const driver = new WinsenZeDriver(
      winsenZeSettings(sensor({ port: socat.devPath, ...options }), log),
    );
    drivers.push(driver);
    await driver.open();
    return driver;
  };

  beforeEach(async () => {
    const temp = makeTempDir("sensord-ze-");
    cleanup = temp.cleanup;
    socat = await SocatPair.start(temp.dir);
    emulator = await ZeEmulator.open({ path: socat.emuPath, periodMs: 100 });
  });
  afterEach(async () => {
    await Promise.all(drivers.splice(0).map((driver) => driver.close()));
    await emulator.close();
    await stopAllSocat();
    cleanup();
  });

  it("active mode: switches the module to active and returns the newest valid frame", async () => {
    const driver = await open();
    expect(hexes(await emulator.waitForCommands(1))).toEqual(["ff0178400000000047"]);
    await emulator.send(uploadFrame(5));
    expect(await driver.read()).toEqual(co(0.5));
    await emulator.send(uploadFrame(300));
    await emulator.send(uploadFrame(123));
    await settle();
    expect(await driver.read()).toEqual(co(12.3));
    emulator.raw = 250;
    emulator.startUploading();
    expect(await driver.read()).toEqual(co(25));
    expect(driver.stats()).toMatchObject({ rejectedBytes: 0, badChecksums: 0, invalidFrames: 0 });
  });

  it("reassembles a frame that arrives in two parts", async () => {
    const driver = await open();
    const frame = uploadFrame(0x0102); // 25.8 ppm
    await emulator.send(frame.subarray(0, 4));
    await sleep(60);
    await emulator.send(frame.subarray(4));
    expect(await driver.read()).toEqual(co(25.8));
    expect(driver.stats()).toEqual({
      frames: 1,
      rejectedBytes: 0,
      badChecksums: 0,
      invalidFrames: 0,
    });
  });

  it("Q&A mode: sends the exact switch and read commands and scales the reply", async () => {
    const driver = await open({ mode: "qa" });
    expect(hexes(await emulator.waitForCommands(1))).toEqual(["ff0178410000000046"]);
    emulator.raw = 300;
    expect(await driver.read()).toEqual(co(30));
    emulator.raw = 1234;
    expect(await driver.read()).toEqual(co(123.4));
    expect(hexes(emulator.commands())).toEqual([
      "ff0178410000000046",
      "ff0186000000000079",
      "ff0186000000000079",
    ]);
    expect(emulator.mode).toBe("qa");
    // A power-cycled module uploads again: the driver switches it back before asking.
    emulator.mode = "active";
    await emulator.send(uploadFrame(9));
    await settle();
    emulator.raw = 42;
    expect(await driver.read()).toEqual(co(4.2));
    expect(hexes(emulator.commands()).slice(3)).toEqual([
      "ff0178410000000046",
      "ff0186000000000079",
    ]);
  });

  it("Q&A mode on a ZE03: uses 78 04 and the per-gas scale", async () => {
    await emulator.close();
    emulator = await ZeEmulator.open({ path: socat.emuPath, model: "ze03" });
    const driver = await open({ mode: "qa", model: "ze03", gas: "no2" });
    expect(hexes(await emulator.waitForCommands(1))).toEqual(["ff0178040000000083"]);
    emulator.raw = 57;
    expect(await driver.read()).toEqual({ values: [{ gas: "no2", value: 5.7, unit: "ppm" }] });
  });

  it("counts bad checksums and never returns them; accepts 0xFF in the payload", async () => {
    const driver = await open();
    await emulator.send(corrupt(uploadFrame(999)));
    await emulator.send(uploadFrame(0xff)); // Lo byte 0xFF: 25.5 ppm
    expect(await driver.read()).toEqual(co(25.5));
    await emulator.send(corrupt(uploadFrame(888)));
    await emulator.send(uploadFrame(42));
    expect(await driver.read()).toEqual(co(4.2));
    expect(driver.stats()).toEqual({
      frames: 2,
      rejectedBytes: 18,
      badChecksums: 2,
      invalidFrames: 0,
    });
  });

  it("rejects frames for another gas or in an unknown unit as invalid", async () => {
    const driver = await open();
    await emulator.send(uploadFrame(50, { gasCode: 0x06 }));
    const wrongGas = await failure(driver.read());
    expect(wrongGas.code).toBe("SENSORD_FRAME_INVALID");
    expect(wrongGas.message).toMatch(/reports gas 0x06 \(h2\), but `gas` is "co" \(0x04\)/);
    await emulator.send(uploadFrame(50, { unitCode: 0x02 }));
    expect((await failure(driver.read())).message).toMatch(/unknown unit byte 0x02/);
    expect(driver.stats()).toMatchObject({ frames: 2, invalidFrames: 2 });
  });

  it("fails with SENSORD_FRAME_INVALID when only garbage arrives", async () => {
    const driver = await open();
    const garbage = Buffer.from([
      0x00,
      0xff,
      0x13,
      0x37,
      0xff,
      0xff,
      0x42,
      ...Array(25).fill(0x5a),
    ]);
    await emulator.send(garbage);
    const error = await failure(driver.read());
    expect(error.code).toBe("SENSORD_FRAME_INVALID");
    expect(error.message).toMatch(/32 byte\(s\) rejected/);
    expect(driver.stats()).toMatchObject({ frames: 0, rejectedBytes: 32, badChecksums: 3 });
  });

  it("fails with SENSORD_SERIAL_SILENT after the timeout when nothing arrives", async () => {
    const driver = await open();
    const started = performance.now();
    const error = await failure(driver.read());
    const waited = performance.now() - started;
    expect(error.code).toBe("SENSORD_SERIAL_SILENT");
    expect(waited).toBeGreaterThanOrEqual(590);
    expect(waited).toBeLessThan(1500);
    emulator.startUploading();
    expect(await driver.read()).toEqual(co(0.5));
  });

  it("fails a pending read at once when the port disappears, and reopens after it is back", async () => {
    const driver = await open({ timeout: "5s" });
    const pending = failure(driver.read());
    const started = performance.now();
    await sleep(50);
    await socat.kill();
    const error = await pending;
    expect(error.code).toBe("SENSORD_SERIAL_DISCONNECTED");
    expect(performance.now() - started).toBeLessThan(1500);
    expect((await failure(driver.read())).code).toBe("SENSORD_SERIAL_DISCONNECTED");
    await driver.close();
    expect((await failure(driver.open())).code).toBe("SENSORD_SERIAL_NOT_FOUND");
    await emulator.close();
    await emulator.comeBack(socat);
    await driver.open();
    await emulator.send(uploadFrame(77));
    expect(await driver.read()).toEqual(co(7.7));
  });

  it("Q&A mode: a module that stops answering fails with SENSORD_SERIAL_SILENT", async () => {
    const driver = await open({ mode: "qa" });
    emulator.raw = 17;
    expect(await driver.read()).toEqual(co(1.7));
    emulator.muted = true;
    const error = await failure(driver.read());
    expect(error.code).toBe("SENSORD_SERIAL_SILENT");
    expect(error.message).toMatch(/\(qa mode\)/);
    emulator.muted = false;
    expect(await driver.read()).toEqual(co(1.7));
  });

  it("close() ends a pending read at once", async () => {
    const driver = await open({ timeout: "5s" });
    const pending = failure(driver.read());
    await sleep(30);
    const started = performance.now();
    await driver.close();
    expect((await pending).code).toBe("SENSORD_SERIAL_CLOSED");
    expect(performance.now() - started).toBeLessThan(500);
  });

  it("close() releases the port so it can be opened again", async () => {
    const first = await open();
    await first.close();
    const second = await open();
    await emulator.send(uploadFrame(11));
    expect(await second.read()).toEqual(co(1.1));
  });

  it("names the fix when the port is missing", async () => {
    const missing = join(socat.dir, "ttyS0");
    const driver = new WinsenZeDriver(winsenZeSettings(sensor({ port: missing }), log));
    const error = await failure(driver.open());
    expect(error.code).toBe("SENSORD_SERIAL_NOT_FOUND");
    expect(error.message).toBe(
      `sensor co0: serial port ${missing} not found: enable the serial port (raspi-config), check \`port\``,
    );
    await driver.close();
  });
});
