import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NotifyReceiver, stopAllReceivers } from "../notify/receiver.js";
import { cleanEnv, DaemonProcess, killAllDaemons, makeTempDir } from "../support/processes.js";

/** systemd's WATCHDOG_USEC for these runs: sensord pings every 200 ms. */
const WATCHDOG_USEC = 400_000;

const BASE_CONFIG = `
[storage]
path = "sensord.db"
flush_interval = "100ms"

[control]
socket = ""

[http]
listen = ""

[[sensors]]
id = "gas0"
driver = "sim"
interval = "100ms"
`;

/**
 * The built sensord under a stand-in for systemd: a real AF_UNIX datagram
 * socket in NOTIFY_SOCKET and a short WATCHDOG_USEC.
 */
describe("sensord under Type=notify", () => {
  let dir: string;
  let cleanup: () => void;

  beforeEach(() => {
    ({ dir, cleanup } = makeTempDir());
  });
  afterEach(async () => {
    await killAllDaemons();
    await stopAllReceivers();
    cleanup();
  });

  function startSensord(config: string, receiver: NotifyReceiver): DaemonProcess {
    writeFileSync(join(dir, "sensord.toml"), config);
    return new DaemonProcess(["--config", join(dir, "sensord.toml")], {
      cwd: dir,
      env: cleanEnv({ NOTIFY_SOCKET: receiver.path, WATCHDOG_USEC: String(WATCHDOG_USEC) }),
    });
  }

  it("sends READY=1 once the database exists, STATUS= and WATCHDOG=1 while healthy, STOPPING=1 on SIGTERM", async () => {
    const receiver = await NotifyReceiver.start(dir, join(dir, "sensord.db"));
    const sensord = startSensord(BASE_CONFIG, receiver);

    const ready = await receiver.waitFor((d) => d.fields.READY === "1", 10_000, "READY=1");
    expect(ready.watched).toBe(true);
    expect(ready.fields.MAINPID).toBe(String(sensord.pid));
    expect(ready.fields.STATUS).toMatch(/^1 sensor (starting|ok), \d+ readings stored, 0 alarms$/);
    expect(receiver.messages()[0]).toBe(ready);

    const firstPing = receiver.with("WATCHDOG", "1").length;
    await receiver.waitFor(
      () => receiver.with("WATCHDOG", "1").length >= firstPing + 8,
      10_000,
      "8 more WATCHDOG=1",
    );
    const pings = receiver.with("WATCHDOG", "1").map((d) => d.at);
    const gaps = pings.slice(1).map((at, index) => at - (pings[index] ?? at));
    const median = [...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)] ?? 0;
    // Every WATCHDOG_USEC / 2; systemd would restart after a gap of WATCHDOG_USEC.
    expect(median).toBeGreaterThan(150);
    expect(median).toBeLessThan(400);

    const statuses = receiver.with("STATUS").map((d) => d.fields.STATUS ?? "");
    const stored = statuses.map((line) =>
      Number(/([\d,]+) readings stored/.exec(line)?.[1]?.replaceAll(",", "")),
    );
    expect(statuses.at(-1)).toMatch(/^1 sensor ok, [\d,]+ readings stored, \d+ alarms?$/);
    expect(stored.at(-1)).toBeGreaterThan(stored[0] ?? 0);

    const sentAt = Date.now();
    expect(await sensord.stop("SIGTERM")).toEqual({ code: 0, signal: null });
    const stopping = await receiver.waitFor((d) => d.fields.STOPPING === "1", 5000, "STOPPING=1");
    expect(stopping.at).toBeGreaterThanOrEqual(sentAt);
    expect(stopping.fields.STATUS).toBe("stopping: committing pending readings");
    // PID 1 attributes a message by its sender's credentials: each sender was alive when read.
    expect(
      receiver.messages().every((d) => d.alive && d.fields.MAINPID === String(sensord.pid)),
    ).toBe(true);
  });

  it("withholds WATCHDOG=1 while a sampler is stuck in a driver call, and resumes when it returns", async () => {
    // Opening a FIFO blocks until a writer appears: a replay sensor on one hangs in
    // open() exactly like a read(2) on a held-low I2C bus, in the real binary.
    const fifo = join(dir, "hang.fifo");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    const receiver = await NotifyReceiver.start(dir);
    const sensord = startSensord(
      `${BASE_CONFIG}
[[sensors]]
id = "hung"
driver = "replay"
interval = "100ms"
file = "hang.fifo"
`,
      receiver,
    );
    await receiver.waitFor((d) => d.fields.READY === "1", 10_000, "READY=1");
    // Within its stall limit (3 x 100 ms + 5 s) the open counts as slow, not stuck.
    await receiver.waitFor((d) => d.fields.WATCHDOG === "1", 5000, "a first WATCHDOG=1");

    const unhealthy = await receiver.waitFor(
      (d) => d.fields.STATUS?.startsWith("UNHEALTHY: sensor hung stuck in a driver call") === true,
      15_000,
      "an UNHEALTHY status",
    );
    expect(unhealthy.fields.WATCHDOG).toBeUndefined();
    await sensord.waitForLog(
      /ERROR \[systemd\] withholding watchdog pings, systemd will restart sensord: sensor hung stuck in a driver call for \d+\.\d s \(limit 5\.3 s\)/,
    );
    // Seven watchdog periods later: status lines keep coming (sensord is alive), pings do not.
    await new Promise((resolveWait) => setTimeout(resolveWait, 1400));
    const after = receiver.messages().filter((d) => d.at >= unhealthy.at);
    expect(after.filter((d) => d.fields.STATUS !== undefined).length).toBeGreaterThanOrEqual(4);
    expect(after.filter((d) => d.fields.WATCHDOG !== undefined)).toEqual([]);

    // A writer appears: the open returns (the replay read then fails on the pipe, a
    // fault the sampler backs off from, which is not a hang), so pings resume.
    const writer = await open(fifo, "w");
    try {
      const resumed = await receiver.waitFor(
        (d) => d.at > unhealthy.at && d.fields.WATCHDOG === "1",
        5000,
        "WATCHDOG=1 again",
      );
      expect(resumed.fields.STATUS).toMatch(/^2 sensors: 1 ok, 1 (degraded|down), /);
      await sensord.waitForLog(/INFO {2}\[systemd\] healthy again: watchdog pings resumed/);
      expect(await sensord.stop("SIGTERM")).toEqual({ code: 0, signal: null });
    } finally {
      await writer.close();
    }
    await receiver.waitFor((d) => d.fields.STOPPING === "1", 5000, "STOPPING=1");
  });
});
