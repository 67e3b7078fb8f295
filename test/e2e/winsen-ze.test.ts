import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Reading } from "../../schemas/reading.js";
import {
  DaemonProcess,
  jsonLines,
  killAllDaemons,
  makeTempDir,
  sensorctl,
  waitUntil,
} from "../support/processes.js";
import { SocatPair, stopAllSocat } from "../support/serial/socat.js";
import { corrupt, uploadFrame, ZeEmulator } from "../support/serial/ze-emulator.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * What the module sends, one item every GAP_MS once sensord has opened the port.
 * `reading` is what must be stored for the item (null: nothing may be).
 */
const SEQUENCE: { bytes: Buffer; reading: number | null }[] = [
  { bytes: uploadFrame(5), reading: 0.5 },
  { bytes: corrupt(uploadFrame(999)), reading: null }, // bad checksum
  { bytes: uploadFrame(0xff), reading: 25.5 }, // 0xFF inside the payload
  { bytes: uploadFrame(444).subarray(0, 5), reading: null }, // partial frame
  { bytes: uploadFrame(300), reading: 30 },
  {
    bytes: Buffer.from([0x13, 0xff, 0x00, 0x42, 0xff, 0xff, 0x88, ...Array(13).fill(0x24)]),
    reading: null,
  },
  { bytes: uploadFrame(111, { gasCode: 0x06 }), reading: null }, // H2 frame on a CO sensor
  { bytes: uploadFrame(123), reading: 12.3 },
  { bytes: uploadFrame(222, { unitCode: 0x02 }), reading: null }, // unit byte nobody documents
  { bytes: uploadFrame(42), reading: 4.2 },
];
const GAP_MS = 250;

function config(port: string): string {
  return `
[device]
id = "pi-test-1"
group = "2"

[storage]
path = "state/sensord.db"
flush_interval = "50ms"

[[sensors]]
id = "co0"
driver = "winsen-ze"
interval = "100ms"
warmup = "0s"
port = "${port}"
gas = "co"
timeout = "2s"
`;
}

describe("sensord end to end with a Winsen ZE module on a pty", () => {
  let dir: string;
  let cleanup: () => void;
  let socat: SocatPair;
  let emulator: ZeEmulator | null = null;
  beforeEach(async () => {
    ({ dir, cleanup } = makeTempDir("sensord-ze-e2e-"));
    socat = await SocatPair.start(dir);
    emulator = await ZeEmulator.open({ path: socat.emuPath });
  });
  afterEach(async () => {
    await killAllDaemons();
    await emulator?.close();
    await stopAllSocat();
    cleanup();
  });

  it("stores exactly the values of the valid frames, in ppm, and nothing from rejected ones", async () => {
    const module = emulator;
    if (module === null) throw new Error("no emulator");
    const configFile = join(dir, "sensord.toml");
    writeFileSync(configFile, config(socat.devPath));
    const daemon = new DaemonProcess(["--config", configFile]);

    // sensord switches the module to active upload when it opens the port: our cue to start.
    const [command] = await module.waitForCommands(1, 10_000);
    expect(command?.toString("hex")).toBe("ff0178400000000047");
    for (const item of SEQUENCE) {
      await module.send(item.bytes);
      await sleep(GAP_MS);
    }

    const expected = SEQUENCE.flatMap((item) => (item.reading === null ? [] : [item.reading]));
    const readingsOf = () =>
      jsonLines<Reading>(
        sensorctl(["--config", configFile, "readings", "--format", "json", "--limit", "1000"])
          .stdout,
      );
    await waitUntil(() => readingsOf().length >= expected.length, 10_000, "the valid readings");
    await sleep(500); // room for a wrong extra reading to show up
    expect(
      readingsOf().map(({ sensor, gas, value, unit, flags }) => [sensor, gas, value, unit, flags]),
    ).toEqual(expected.map((value) => ["co0", "co", value, "ppm", []]));

    expect(daemon.log).not.toMatch(/crash|unhandled|TypeError/i);
    expect(await daemon.stop("SIGTERM")).toEqual({ code: 0, signal: null });
  });
});
