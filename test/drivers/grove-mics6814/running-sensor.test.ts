import { describe, expect, it } from "vitest";
import type { Sample } from "../../../daemon/drivers/driver.js";
import { createMicsDriver } from "../../../daemon/drivers/grove-mics6814/index.js";
import { RunningSensor } from "../../../daemon/sampler/running-sensor.js";
import { MicsV1Board, MicsV2Board } from "../../support/i2c/boards.js";
import { type BoardModel, EmulatedI2cBus } from "../../support/i2c/bus.js";
import { captureLog, FAST_TIMING, sensorConfig, waitFor } from "../../support/i2c/rig.js";

/** The real sampler wrapper around the real driver, talking to the board emulator. */
function sampler(board: BoardModel) {
  const bus = new EmulatedI2cBus(1).attach(0x04, board);
  const { lines, log } = captureLog();
  const sensor = sensorConfig("grove-mics6814", { gases: ["co"] }, { intervalMs: 10 });
  const samples: Sample[] = [];
  const running = new RunningSensor({
    sensor,
    driver: createMicsDriver(sensor, { log, openI2cBus: bus.opener }, FAST_TIMING),
    log,
    onSample: (sample) => samples.push(sample),
    backoff: { initialMs: 10, maxMs: 40 },
  });
  const transitions = () =>
    lines.filter((line) => line.includes("state ") && !line.startsWith("<7>"));
  return { bus, lines, samples, running, transitions };
}

describe("grove-mics6814 inside RunningSensor", () => {
  it("goes ok -> degraded -> down -> ok when the board stops answering and comes back", async () => {
    const { bus, samples, running, transitions } = sampler(new MicsV2Board());
    running.start();
    await waitFor(() => samples.length >= 3);
    expect(running.status().state).toBe("ok");

    // The read, then the first reopen, then the second reopen each get a NACK.
    bus.inject({ kind: "nack" }, { times: 3 });
    const before = samples.length;
    await waitFor(() => samples.length >= before + 3);
    await running.stop();

    expect(running.status().errors).toEqual({ SENSORD_I2C_NACK: 3 });
    const nack = "no device answered at 0x04 on bus 1";
    expect(transitions()).toEqual([
      expect.stringMatching(
        new RegExp(
          `^<4>state ok -> degraded: sensor gas0: ${nack} \\(EREMOTEIO during (write \\[02\\]|read 2 bytes)\\)`,
        ),
      ),
      expect.stringMatching(
        new RegExp(
          `^<3>state degraded -> down: sensor gas0: ${nack} \\(EREMOTEIO during write \\[06 00\\]\\)`,
        ),
      ),
      "<6>state down -> ok: recovered",
    ]);
    expect(bus.opens).toBe(4); // the first open, two failed reopens, one that worked
    expect(bus.overlaps).toBe(0);
    expect(bus.afterClose).toBe(0);
    expect(samples.at(-1)?.values[0]).toEqual({ gas: "co", value: 4.385, unit: "ppm" });
  });

  it("counts bad checksums as frame errors without reopening the board", async () => {
    const { bus, samples, running, transitions } = sampler(new MicsV1Board());
    running.start();
    await waitFor(() => samples.length >= 2);
    bus.inject({ kind: "garbage", bytes: [0x02, 0x02, 0xce, 0x00] }, { op: "read", times: 2 });
    const before = samples.length;
    await waitFor(() => samples.length >= before + 2);
    await running.stop();

    expect(running.status().errors).toEqual({ SENSORD_FRAME_INVALID: 2 });
    expect(bus.opens).toBe(1);
    expect(transitions()).toEqual([
      "<4>state ok -> degraded: sensor gas0: bad reply from 0x04 on bus 1 (read co element): checksum mismatch in [02 02 ce 00]: expected d2",
      "<6>state degraded -> ok: recovered",
    ]);
  });

  it("survives a stuck bus: times out, goes down without piling up transfers, recovers once it settles", async () => {
    const board = new MicsV2Board();
    const { bus, samples, running, transitions } = sampler(board);
    running.start();
    await waitFor(() => samples.length >= 2);
    bus.inject({ kind: "stuck" }, { op: "read" });
    await waitFor(() => running.status().state === "down");
    const stuckSince = samples.length;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(samples.length).toBe(stuckSince);
    expect(bus.stuckCount).toBe(1);

    bus.releaseStuck();
    await waitFor(() => samples.length >= stuckSince + 2);
    await running.stop();

    const errors = running.status().errors;
    expect(Object.keys(errors)).toEqual(["SENSORD_I2C_TIMEOUT"]);
    expect(errors.SENSORD_I2C_TIMEOUT).toBeGreaterThanOrEqual(2);
    expect(transitions()).toEqual([
      "<4>state ok -> degraded: sensor gas0: no answer from 0x04 on bus 1 within 60 ms (read 2 bytes)",
      expect.stringMatching(
        /^<3>state degraded -> down: sensor gas0: I2C bus 1 is still blocked by an operation that timed out \d+ ms ago/,
      ),
      "<6>state down -> ok: recovered",
    ]);
    expect(bus.overlaps).toBe(0);
    expect(board.heater).toBe(true);
  });
});
