import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../../../core/logger.js";
import { WinsenZeDriver, winsenZeSettings } from "../../../daemon/drivers/winsen-ze/index.js";
import { RunningSensor, type SensorState } from "../../../daemon/sampler/running-sensor.js";
import type { SensorConfig } from "../../../schemas/config-types.js";
import { makeTempDir, waitUntil } from "../../support/processes.js";
import { SocatPair, stopAllSocat } from "../../support/serial/socat.js";
import { ZeEmulator } from "../../support/serial/ze-emulator.js";

/**
 * The driver inside a real RunningSensor: a module that goes silent or whose
 * port vanishes must show as degraded/down and come back to ok by itself,
 * without the sensor (or the daemon) being restarted.
 */
/** State-change log lines after start-up, without the journald priority prefix. */
function transitionsIn(lines: string[]): string[] {
  return lines
    .map((line) => line.replace(/^<\d>/, ""))
    .filter((line) => /^state \w+ -> /.test(line) && !line.startsWith("state starting"));
}

describe("winsen-ze inside RunningSensor", () => {
  let cleanup: () => void;
  let socat: SocatPair;
  let emulator: ZeEmulator;
  let running: RunningSensor | null = null;
  const lines: string[] = [];
  const values: number[] = [];
  const states: SensorState[] = [];
  let poller: NodeJS.Timeout | null = null;

  const start = () => {
    const sensor: SensorConfig = {
      id: "co0",
      driver: "winsen-ze",
      intervalMs: 100,
      warmupMs: 0,
      channels: {},
      options: { port: socat.devPath, gas: "co", timeout: "400ms" },
    };
    const log = createLogger({
      level: "debug",
      journald: true,
      write: (line) => lines.push(line.trim()),
    });
    const sampler = new RunningSensor({
      sensor,
      driver: new WinsenZeDriver(winsenZeSettings(sensor, log)),
      log,
      onSample: (sample) => values.push(...sample.values.map((value) => value.value)),
      backoff: { initialMs: 100, maxMs: 300 },
    });
    running = sampler;
    sampler.start();
    // Every state the sampler passes through, in order (without repeats).
    poller = setInterval(() => {
      const state = sampler.status().state;
      if (states.at(-1) !== state) states.push(state);
    }, 5);
    return sampler;
  };

  beforeEach(async () => {
    const temp = makeTempDir("sensord-ze-rs-");
    cleanup = temp.cleanup;
    socat = await SocatPair.start(temp.dir);
    emulator = await ZeEmulator.open({ path: socat.emuPath, periodMs: 100, uploading: true });
    lines.length = 0;
    values.length = 0;
    states.length = 0;
  });
  afterEach(async () => {
    if (poller) clearInterval(poller);
    await running?.stop();
    running = null;
    await emulator.close();
    await stopAllSocat();
    cleanup();
  });

  it("recovers from the port vanishing and coming back (socat killed, restarted)", async () => {
    const sampler = start();
    await waitUntil(() => values.filter((value) => value === 0.5).length >= 3, 5000, "readings");
    expect(sampler.status().state).toBe("ok");

    await emulator.vanish(socat); // unplugged: socat SIGKILLed
    await waitUntil(() => sampler.status().state === "down", 5000, "down");
    const samplesWhileGone = sampler.status().samples;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sampler.status().samples).toBe(samplesWhileGone);

    emulator.raw = 77;
    await emulator.comeBack(socat); // plugged back in: same link name, new pty
    await waitUntil(() => values.includes(7.7), 8000, "a reading after the port came back");
    await waitUntil(() => states.at(-1) === "ok", 2000, "ok");

    expect(states.slice(0, 2)).toEqual(["starting", "ok"]);
    expect(states.slice(2)).toEqual(expect.arrayContaining(["down", "ok"]));
    expect(states.at(-1)).toBe("ok");
    const status = sampler.status();
    expect(status.errors.SENSORD_SERIAL_DISCONNECTED).toBe(1);
    expect(status.errors.SENSORD_SERIAL_NOT_FOUND).toBeGreaterThanOrEqual(1);
    const transitions = transitionsIn(lines);
    expect(transitions[0]).toMatch(
      /state ok -> degraded: sensor co0: serial port .*dev closed unexpectedly/,
    );
    expect(transitions[1]).toMatch(
      /state degraded -> down: sensor co0: serial port .*dev not found/,
    );
    expect(transitions[2]).toMatch(/state down -> ok: recovered/);
    expect(transitions).toHaveLength(3);
    // Never a reading from the vanished module or a mangled frame.
    expect(new Set(values)).toEqual(new Set([0.5, 7.7]));
  });

  it("shows a silent module as degraded, then down, then recovers when frames resume", async () => {
    const sampler = start();
    await waitUntil(() => sampler.status().state === "ok", 5000, "ok");
    emulator.stopUploading();
    await waitUntil(() => sampler.status().state === "down", 8000, "down");
    expect(sampler.status().errors.SENSORD_SERIAL_SILENT).toBe(3);
    emulator.raw = 123;
    emulator.startUploading();
    await waitUntil(() => values.includes(12.3), 8000, "a reading after frames resumed");
    await waitUntil(() => states.at(-1) === "ok", 2000, "ok");
    expect(states).toEqual(["starting", "ok", "degraded", "down", "ok"]);
    const transitions = transitionsIn(lines);
    expect(transitions.map((line) => line.split(":")[0])).toEqual([
      "state ok -> degraded",
      "state degraded -> down",
      "state down -> ok",
    ]);
    expect(transitions[0]).toMatch(/no data from the module on .*dev in 0.4 s \(active mode\)/);
  });
});
