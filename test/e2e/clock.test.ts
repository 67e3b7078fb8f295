import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { StatusReport } from "../../daemon/control/status.js";
import type { AlertEvent } from "../../schemas/alert.js";
import type { Reading } from "../../schemas/reading.js";
import {
  cleanEnv,
  DaemonProcess,
  jsonLines,
  killAllDaemons,
  makeTempDir,
  sensorctl,
  waitUntil,
} from "../support/processes.js";

const CONFIG = `[device]
id = "pi-clock"

[storage]
path = "sensord.db"
flush_interval = "50ms"

[control]
socket = "sensord.sock"

[http]
listen = ""

[[sensors]]
id = "gas0"
driver = "replay"
interval = "50ms"
file = "replay.ndjson"
loop = true
`;

/**
 * sensord asks systemd (`timedatectl show -p NTPSynchronized --value`, found
 * on PATH) whether the clock is synchronized. Here the `timedatectl` first on
 * its PATH is a script printing what the test wrote: the real command's
 * interface, the test's answer.
 */
describe("sensord on a clock NTP has not synchronized yet", () => {
  let dir: string;
  let cleanup: () => void;
  let env: NodeJS.ProcessEnv;
  beforeEach(() => {
    ({ dir, cleanup } = makeTempDir());
    const bin = join(dir, "bin");
    mkdirSync(bin);
    writeFileSync(join(bin, "timedatectl"), `#!/bin/sh\ncat "${join(dir, "ntp")}"\n`);
    chmodSync(join(bin, "timedatectl"), 0o755);
    env = cleanEnv({ PATH: `${bin}:${process.env.PATH ?? ""}` });
    writeFileSync(join(dir, "sensord.toml"), CONFIG);
    // CO past the safety preset's 35 ppm: an alarm must be raised whatever the clock says.
    writeFileSync(join(dir, "replay.ndjson"), '{"co": 50, "no2": 20}\n');
  });
  afterEach(async () => {
    await killAllDaemons();
    cleanup();
  });

  const ctl = (...args: string[]) => sensorctl(["--config", join(dir, "sensord.toml"), ...args]);
  const readings = () =>
    jsonLines<Reading>(ctl("readings", "--format", "json", "--limit", "100000").stdout);

  it("flags the readings clock_unsynced, still alarms, says so in status; not once NTP has synchronized", async () => {
    writeFileSync(join(dir, "ntp"), "no\n");
    const first = new DaemonProcess(["--config", join(dir, "sensord.toml")], { env });
    await first.waitForLog(
      /\[clock\] the system clock is not synchronized \(timedatectl: NTPSynchronized=no\): readings are flagged clock_unsynced/,
    );
    await waitUntil(() => readings().length >= 10, 10_000, "10 readings");
    const status = ctl("status");
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(
      "clock:   NOT SYNCHRONIZED (timedatectl: NTPSynchronized=no): new readings are flagged clock_unsynced",
    );
    const json = JSON.parse(ctl("status", "--json").stdout) as StatusReport;
    expect(json.clock).toMatchObject({
      synchronized: false,
      detail: "timedatectl: NTPSynchronized=no",
    });
    await first.stop();
    const before = readings();
    expect(before.every((reading) => reading.flags.includes("clock_unsynced"))).toBe(true);
    const alerts = jsonLines<AlertEvent>(ctl("alerts", "--format", "json").stdout);
    expect(alerts.some((event) => event.kind === "raise" && event.gas === "co")).toBe(true);

    writeFileSync(join(dir, "ntp"), "yes\n");
    const second = new DaemonProcess(["--config", join(dir, "sensord.toml")], { env });
    await second.waitForLog(/sensord started/);
    await waitUntil(() => readings().length >= before.length + 10, 10_000, "10 more readings");
    expect(ctl("status").stdout).toContain(
      "clock:   synchronized (timedatectl: NTPSynchronized=yes)",
    );
    await second.stop();
    const after = readings().slice(before.length);
    expect(after.length).toBeGreaterThanOrEqual(10);
    expect(after.every((reading) => reading.flags.length === 0)).toBe(true);
    expect(second.log).not.toContain("[clock]");
  }, 40_000);
});
