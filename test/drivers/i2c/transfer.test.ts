import { describe, expect, it } from "vitest";
import { DriverError, ERROR_CODES } from "../../../core/errors.js";
import type { I2cBus } from "../../../daemon/drivers/i2c/bus.js";
import { InvalidFrame, i2cError } from "../../../daemon/drivers/i2c/errors.js";
import { BusGate, GateTimeout } from "../../../daemon/drivers/i2c/gate.js";
import { closeQuietly, openI2cDevice } from "../../../daemon/drivers/i2c/transfer.js";
import { GmV2Board, MicsV2Board } from "../../support/i2c/boards.js";
import { EmulatedI2cBus, type Fault } from "../../support/i2c/bus.js";
import { rejectionOf } from "../../support/i2c/rig.js";

const MICS = { sensor: "gas0", busNumber: 1, address: 0x04 };
const GM = { sensor: "gas1", busNumber: 1, address: 0x08 };
const TIMEOUT_MS = 60;

function rig() {
  const board = new MicsV2Board();
  const bus = new EmulatedI2cBus(1).attach(0x04, board);
  return { board, bus };
}

async function driverError(promise: Promise<unknown>): Promise<DriverError> {
  const error = await rejectionOf(promise);
  if (!(error instanceof DriverError))
    throw new Error(`expected a DriverError, got ${String(error)}`);
  return error;
}

describe("I2cDevice", () => {
  it("writes the command, pauses, then reads the reply as a separate plain read", async () => {
    const { board, bus } = rig();
    board.adc.co = 700;
    const { device } = await openI2cDevice(bus.opener, MICS, TIMEOUT_MS);
    const reply = await device.query([0x02], 2, 5);
    expect([...reply]).toEqual([0x02, 0xbc]);
    expect(bus.transfers.map(({ op, address, bytes }) => ({ op, address, bytes }))).toEqual([
      { op: "write", address: 0x04, bytes: [0x02] },
      { op: "read", address: 0x04, bytes: [0x02, 0xbc] },
    ]);
    const [write, read] = bus.transfers;
    expect((read?.at ?? 0) - (write?.at ?? 0)).toBeGreaterThanOrEqual(4.5);
  });

  const faults: Array<{ name: string; fault: Fault; code: string; text: string }> = [
    {
      name: "NACK (EREMOTEIO)",
      fault: { kind: "nack" },
      code: ERROR_CODES.i2c.nack,
      text: "sensor gas0: no device answered at 0x04 on bus 1 (EREMOTEIO during write [02]): check the wiring and power, and that the address matches the board (i2cdetect -y 1)",
    },
    {
      name: "NACK (ENXIO)",
      fault: { kind: "nack", errno: "ENXIO" },
      code: ERROR_CODES.i2c.nack,
      text: "no device answered at 0x04 on bus 1 (ENXIO during write [02])",
    },
    {
      name: "EIO",
      fault: { kind: "eio" },
      code: ERROR_CODES.i2c.nack,
      text: "no device answered at 0x04 on bus 1 (EIO during write [02])",
    },
    {
      name: "ETIMEDOUT",
      fault: { kind: "etimedout" },
      code: ERROR_CODES.i2c.timeout,
      text: "the I2C adapter timed out talking to 0x04 on bus 1 (ETIMEDOUT during write [02])",
    },
    {
      name: "another errno",
      fault: { kind: "errno", code: "EBUSY" },
      code: ERROR_CODES.i2c.io,
      text: "I2C write [02] to 0x04 on bus 1 failed: EBUSY",
    },
  ];
  for (const { name, fault, code, text } of faults) {
    it(`maps ${name} to ${code}`, async () => {
      const { bus } = rig();
      bus.inject(fault);
      const { device } = await openI2cDevice(bus.opener, MICS, TIMEOUT_MS);
      const error = await driverError(device.query([0x02], 2, 1));
      expect(error.code).toBe(code);
      expect(error.message).toContain(text);
      expect(error.sensor).toBe("gas0");
    });
  }

  it("reports a missing bus (ENOENT on the first transfer, as i2c-bus does) with the fix", async () => {
    const { bus } = rig();
    bus.setMissing(true);
    const { device } = await openI2cDevice(bus.opener, MICS, TIMEOUT_MS);
    const error = await driverError(device.write([0x02]));
    expect(error.code).toBe("SENSORD_I2C_BUS_MISSING");
    expect(error.message).toBe(
      "sensor gas0: I2C bus 1 not found (/dev/i2c-1 does not exist): enable I2C (raspi-config > " +
        "Interface Options > I2C, or dtparam=i2c_arm=on in config.txt) and reboot, or set bus = <n> " +
        "to the bus the board is on (ls /dev/i2c-*)",
    );
    bus.setMissing(false);
    await device.write([0x02]);
  });

  it("names the configured bus number when it does not exist", async () => {
    const { bus } = rig();
    const { device } = await openI2cDevice(bus.opener, { ...MICS, busNumber: 3 }, TIMEOUT_MS);
    const error = await driverError(device.write([0x02]));
    expect(error.code).toBe("SENSORD_I2C_BUS_MISSING");
    expect(error.message).toContain("I2C bus 3 not found (/dev/i2c-3 does not exist)");
  });

  it("reports EACCES as a permission problem with the i2c-group fix", async () => {
    const { bus } = rig();
    bus.denyAccess();
    const { device } = await openI2cDevice(bus.opener, MICS, TIMEOUT_MS);
    const error = await driverError(device.write([0x02]));
    expect(error.code).toBe("SENSORD_I2C_PERMISSION");
    expect(error.message).toBe(
      'sensor gas0: permission denied on /dev/i2c-1: add the service user to the "i2c" group ' +
        "(sudo usermod -aG i2c <user>) and restart the service",
    );
  });

  it("reports an absent device as a NACK", async () => {
    const { bus } = rig();
    bus.unplug(0x04);
    const { device } = await openI2cDevice(bus.opener, MICS, TIMEOUT_MS);
    const error = await driverError(device.query([0x02], 2, 1));
    expect(error.code).toBe("SENSORD_I2C_NACK");
    bus.plug(0x04);
    expect([...(await device.query([0x02], 2, 1))]).toEqual([0x03, 0xb6]);
  });

  it("treats a short read as a bad frame", async () => {
    const { bus } = rig();
    bus.inject({ kind: "short", bytesRead: 1 }, { op: "read" });
    const { device } = await openI2cDevice(bus.opener, MICS, TIMEOUT_MS);
    const error = await driverError(device.query([0x02], 2, 1));
    expect(error.code).toBe("SENSORD_FRAME_INVALID");
    expect(error.message).toBe(
      "sensor gas0: bad reply from 0x04 on bus 1 (read 2 bytes): short read: got 1 of 2 bytes",
    );
  });

  it("maps a protocol's InvalidFrame to SENSORD_FRAME_INVALID and passes DriverErrors through", () => {
    const frame = i2cError(new InvalidFrame("checksum mismatch"), MICS, "read co element");
    expect(frame.code).toBe("SENSORD_FRAME_INVALID");
    expect(frame.message).toBe(
      "sensor gas0: bad reply from 0x04 on bus 1 (read co element): checksum mismatch",
    );
    const original = new DriverError(ERROR_CODES.driver.sensorFault, "gas0", "x");
    expect(i2cError(original, MICS, "read")).toBe(original);
  });
});

describe("stuck bus", () => {
  it("times out instead of hanging, refuses further operations until the stuck one settles, then recovers", async () => {
    const { bus } = rig();
    bus.inject({ kind: "stuck" }, { op: "read" });
    const { device } = await openI2cDevice(bus.opener, MICS, TIMEOUT_MS);
    const started = performance.now();
    const timeout = await driverError(device.query([0x02], 2, 1));
    const elapsed = performance.now() - started;
    expect(timeout.code).toBe("SENSORD_I2C_TIMEOUT");
    expect(timeout.message).toBe(
      "sensor gas0: no answer from 0x04 on bus 1 within 60 ms (read 2 bytes)",
    );
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 1);
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 500);
    expect(bus.stuckCount).toBe(1);

    // The read(2) would still hold a threadpool thread: nothing else may reach the bus.
    const transfersBefore = bus.transfers.length;
    const blocked = await driverError(device.write([0x02]));
    expect(blocked.code).toBe("SENSORD_I2C_TIMEOUT");
    expect(blocked.message).toMatch(
      /^sensor gas0: I2C bus 1 is still blocked by an operation that timed out \d+ ms ago; not starting write \[02\] for 0x04/,
    );
    expect(bus.transfers.length).toBe(transfersBefore);
    expect(bus.overlaps).toBe(0);

    expect(bus.releaseStuck("error")).toBe(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect([...(await device.query([0x02], 2, 1))]).toEqual([0x03, 0xb6]);
    expect(bus.overlaps).toBe(0);
  });

  it("an operation queued behind a stuck one times out without ever being issued", async () => {
    const { bus } = rig();
    bus.attach(0x08, new GmV2Board());
    bus.inject({ kind: "stuck" }, { address: 0x04, op: "read" });
    const opened = await openI2cDevice(bus.opener, MICS, TIMEOUT_MS);
    // Same opener and bus number, so the same gate as the MiCS device (gateFor()).
    const gm = (await openI2cDevice(bus.opener, GM, TIMEOUT_MS)).device;
    await opened.device.write([0x02]);
    const stuckRead = driverError(opened.device.read(2));
    await new Promise((resolve) => setImmediate(resolve));
    const queued = await driverError(gm.write([0x07]));
    expect(queued.code).toBe("SENSORD_I2C_TIMEOUT");
    // The MiCS read overran first, so the GM write found the bus blocked when its turn came.
    expect(queued.message).toContain("I2C bus 1 is still blocked by an operation that timed out");
    expect(queued.message).toContain("not starting write [07] for 0x08");
    expect((await stuckRead).code).toBe("SENSORD_I2C_TIMEOUT");
    bus.releaseStuck("complete");
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(bus.writesTo(0x08)).toEqual([]);
    expect(bus.overlaps).toBe(0);
  });
});

describe("BusGate", () => {
  it("serializes operations of several devices on one bus", async () => {
    const mics = new MicsV2Board();
    const gmBoard = new GmV2Board();
    gmBoard.adc.co = 700;
    mics.adc.no2 = 200;
    const bus = new EmulatedI2cBus(1).attach(0x04, mics).attach(0x08, gmBoard);
    const a = await openI2cDevice(bus.opener, MICS, TIMEOUT_MS);
    const b = await openI2cDevice(bus.opener, GM, TIMEOUT_MS);
    const replies = await Promise.all([
      a.device.query([0x03], 2, 2),
      b.device.query([0x07], 4, 2),
      a.device.query([0x06, 0x00], 2, 2),
    ]);
    expect(replies.map((reply) => [...reply])).toEqual([
      [0x00, 0xc8],
      [0xbc, 0x02, 0x00, 0x00],
      [0x04, 0x66],
    ]);
    expect(bus.overlaps).toBe(0);
  });

  it("passes an operation's own error through and frees the bus", async () => {
    const gate = new BusGate();
    await expect(
      gate.exclusive(50, (step) => step(async () => Promise.reject(new Error("boom")))),
    ).rejects.toThrow("boom");
    await expect(gate.exclusive(50, (step) => step(async () => 7))).resolves.toBe(7);
    expect(gate.blockedForMs()).toBeNull();
  });

  it("gives up on a unit that waits too long for the bus, without running it", async () => {
    const gate = new BusGate();
    let secondRan = false;
    const first = gate.exclusive(500, async (step) => {
      await new Promise((resolve) => setTimeout(resolve, 80));
      return step(async () => "first");
    });
    const second = gate.exclusive(20, async () => {
      secondRan = true;
    });
    const error = await rejectionOf(second);
    expect(error).toBeInstanceOf(GateTimeout);
    expect(error instanceof GateTimeout ? error.kind : null).toBe("waiting");
    expect(i2cError(error, MICS, "write [02]").message).toBe(
      "sensor gas0: no answer from 0x04 on bus 1 within 20 ms (waiting for the bus) (write [02])",
    );
    await expect(first).resolves.toBe("first");
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(secondRan).toBe(false);
    await expect(gate.exclusive(50, (step) => step(async () => "third"))).resolves.toBe("third");
  });
});

describe("closeQuietly", () => {
  it("returns after the timeout when close() never settles, and swallows close errors", async () => {
    const never: I2cBus = {
      i2cWrite: async () => ({ bytesWritten: 0, buffer: Buffer.alloc(0) }),
      i2cRead: async () => ({ bytesRead: 0, buffer: Buffer.alloc(0) }),
      close: () => new Promise<void>(() => {}),
    };
    const started = performance.now();
    await closeQuietly(never, 30);
    expect(performance.now() - started).toBeLessThan(500);
    await closeQuietly({ ...never, close: async () => Promise.reject(new Error("EBADF")) }, 30);
    await closeQuietly(null, 30);
  });
});
