import { describe, expect, it } from "vitest";
import { GmV2Board, MicsV1Board, MicsV2Board } from "../../support/i2c/boards.js";
import { EmulatedI2cBus } from "../../support/i2c/bus.js";

/** Byte-level checks of the emulations themselves, so driver tests rest on known-good boards. */
async function query(bus: EmulatedI2cBus, address: number, command: number[], length: number) {
  const handle = await bus.opener(1);
  await handle.i2cWrite(address, command.length, Buffer.from(command));
  const { bytesRead, buffer } = await handle.i2cRead(address, length, Buffer.alloc(length));
  return [...buffer.subarray(0, bytesRead)];
}

describe("board emulators", () => {
  it("firmware 1 answers 4-byte checksummed frames, and 00 FF to commands it ignores", async () => {
    const board = new MicsV1Board();
    board.rs.co = 0x02ce;
    const bus = new EmulatedI2cBus().attach(0x04, board);
    expect(await query(bus, 0x04, [0x02], 4)).toEqual([0x02, 0x02, 0xce, 0xd2]);
    expect(await query(bus, 0x04, [0x13], 4)).toEqual([0x13, 0x00, 0x09, 0x1c]);
    // A two-byte write does not change what the next read returns.
    expect(await query(bus, 0x04, [0x06, 0x00], 2)).toEqual([0x13, 0x00]);
    expect(await query(bus, 0x04, [0x21], 2)).toEqual([0x00, 0xff]);
    expect(board.heater).toBe(true);
  });

  it("firmware 2 answers EEPROM words, 2-byte ADCs and the 6-byte read-all", async () => {
    const board = new MicsV2Board();
    board.adc.co = 700;
    board.adc.no2 = 200;
    const bus = new EmulatedI2cBus().attach(0x04, board);
    expect(await query(bus, 0x04, [0x06, 0x00], 2)).toEqual([0x04, 0x66]);
    expect(await query(bus, 0x04, [0x06, 0x30], 2)).toEqual([0xff, 0xff]);
    expect(await query(bus, 0x04, [0x02], 2)).toEqual([0x02, 0xbc]);
    expect(await query(bus, 0x04, [0x04], 6)).toEqual([0x03, 0x5c, 0x02, 0xbc, 0x00, 0xc8]);
    expect(await query(bus, 0x04, [0x0b, 0x01], 1)).toEqual([0x00]);
    expect(board.heater).toBe(true);
    // doCalibrate() stores the user R0 words.
    const handle = await bus.opener(1);
    await handle.i2cWrite(0x04, 7, Buffer.from([0x07, 0x03, 0x20, 0x03, 0x84, 0x00, 0x96]));
    expect([board.eeprom.get(8), board.eeprom.get(10), board.eeprom.get(12)]).toEqual([
      800, 900, 150,
    ]);
  });

  it("the GM V2 board answers little-endian uint32 words and switches its heaters", async () => {
    const board = new GmV2Board();
    board.adc.co = 700;
    board.adc.no2 = 0x12345;
    const bus = new EmulatedI2cBus().attach(0x08, board);
    expect(await query(bus, 0x08, [0x07], 4)).toEqual([0xbc, 0x02, 0x00, 0x00]);
    expect(await query(bus, 0x08, [0x01], 4)).toEqual([0x45, 0x23, 0x01, 0x00]);
    await query(bus, 0x08, [0xfe], 0);
    expect(board.heater).toBe(true);
    expect(board.received).toEqual([[0x07], [0x01], [0xfe]]);
  });

  it("records transfers, applies faults once by default, and counts use after close", async () => {
    const bus = new EmulatedI2cBus().attach(0x04, new MicsV2Board());
    bus.inject({ kind: "nack", errno: "ENXIO" }, { address: 0x04, op: "read" });
    const handle = await bus.opener(1);
    await handle.i2cWrite(0x04, 1, Buffer.from([0x02]));
    await expect(handle.i2cRead(0x04, 2, Buffer.alloc(2))).rejects.toMatchObject({ code: "ENXIO" });
    await expect(handle.i2cRead(0x04, 2, Buffer.alloc(2))).resolves.toMatchObject({ bytesRead: 2 });
    expect(bus.transfers.map((transfer) => transfer.result)).toEqual(["ok", "ENXIO", "ok"]);
    await handle.close();
    await handle.i2cRead(0x04, 2, Buffer.alloc(2));
    expect(bus.afterClose).toBe(1);
    await expect(handle.i2cRead(0x05, 1, Buffer.alloc(1))).rejects.toMatchObject({
      code: "EREMOTEIO",
    });
  });
});
