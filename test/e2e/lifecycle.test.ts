import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
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

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = makeTempDir());
});
afterEach(async () => {
  await killAllDaemons();
  cleanup();
});

function simConfig(extra = "", flush = "30s"): string {
  const file = join(dir, "sensord.toml");
  writeFileSync(
    file,
    `[storage]\npath = "sensord.db"\nflush_interval = "${flush}"\n\n[[sensors]]\nid = "gas0"\ndriver = "sim"\ninterval = "10ms"\n${extra}`,
  );
  return file;
}

const readings = (config: string) =>
  jsonLines<Reading>(
    sensorctl(["--config", config, "readings", "--format", "json", "--limit", "1000000"]).stdout,
  );

describe("signals", () => {
  it.each(["SIGTERM", "SIGINT"] as const)(
    "%s commits what is pending (flush_interval 30s) and exits 0 within 5 s",
    async (signal) => {
      const config = simConfig();
      const daemon = new DaemonProcess(["--config", config]);
      await daemon.waitForLog(/sensord started/);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(readings(config)).toHaveLength(0);
      const asked = Date.now();
      expect(await daemon.stop(signal)).toEqual({ code: 0, signal: null });
      expect(Date.now() - asked).toBeLessThan(5000);
      // ~50 ticks x 4 gases sampled in 500 ms, none committed before the signal.
      expect(readings(config).length).toBeGreaterThanOrEqual(100);
    },
  );

  it("SIGHUP applies new thresholds without a restart and without losing readings", async () => {
    const replay = join(dir, "replay.ndjson");
    writeFileSync(replay, `${Array.from({ length: 3000 }, () => '{"no2": 60}').join("\n")}\n`);
    const write = (threshold: number) =>
      writeFileSync(
        join(dir, "sensord.toml"),
        `[storage]\npath = "sensord.db"\nflush_interval = "50ms"\n\n[[sensors]]\nid = "gas0"\ndriver = "replay"\ninterval = "10ms"\nfile = "replay.ndjson"\n\n[[thresholds]]\ngas = "no2"\nvalue = ${threshold}\n`,
      );
    write(88);
    const config = join(dir, "sensord.toml");
    // sensorctl reads through its own copy: the test breaks sensord.toml on purpose below.
    const query = join(dir, "query.toml");
    writeFileSync(
      query,
      `[storage]\npath = "sensord.db"\n\n[[sensors]]\nid = "gas0"\ndriver = "sim"\n`,
    );
    const daemon = new DaemonProcess(["--config", config]);
    await daemon.waitForLog(/sensord started/);
    await waitUntil(() => readings(config).length >= 20, 10_000, "readings before reload");
    expect(
      jsonLines<AlertEvent>(sensorctl(["--config", config, "alerts", "--format", "json"]).stdout),
    ).toEqual([]);

    write(50);
    daemon.signal("SIGHUP");
    await daemon.waitForLog(/configuration reloaded: 1 threshold rule/);
    await waitUntil(
      () =>
        sensorctl(["--config", config, "alerts", "--format", "json"]).stdout.includes('"raise"'),
      10_000,
      "a raise under the new rule",
    );
    const [alert] = jsonLines<AlertEvent>(
      sensorctl(["--config", config, "alerts", "--format", "json"]).stdout,
    );
    expect(alert).toMatchObject({
      gas: "no2",
      kind: "raise",
      value: 60,
      threshold: 50,
      rule: "no2>=50:warning",
    });

    // A broken edit is rejected and the daemon keeps running on the old config.
    writeFileSync(config, "[storage\n");
    daemon.signal("SIGHUP");
    await daemon.waitForLog(/reload rejected, keeping the running configuration/);
    const before = readings(query).length;
    await waitUntil(() => readings(query).length > before, 5000, "sampling to go on");
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
    // Sequence ids are gap-free: nothing was lost across the reloads.
    const all = readings(query);
    const seqs = all.map((reading) => Number.parseInt(reading.id.split("-r")[1] ?? "", 36));
    expect(seqs).toEqual(Array.from({ length: all.length }, (_, index) => index + 1));
  });
});

describe("logging", () => {
  it("prefixes syslog priorities and omits timestamps under journald", async () => {
    const config = simConfig();
    const daemon = new DaemonProcess(["--config", config], {
      env: cleanEnv({ JOURNAL_STREAM: "8:12345" }),
    });
    await daemon.waitForLog(/sensord started/);
    await daemon.stop();
    const lines = daemon.log.trim().split("\n");
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(/^<[3467]>/);
    expect(daemon.log).toMatch(/^<6>sensord started: device /m);
    expect(daemon.log).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
  });
});

describe("a corrupt database at start", () => {
  it("is moved aside with an error that says so, and sensord starts fresh", async () => {
    const config = simConfig("", "50ms");
    const garbage = Buffer.alloc(64 * 1024);
    for (let index = 0; index < garbage.length; index++) garbage[index] = (index * 7919) % 251;
    writeFileSync(join(dir, "sensord.db"), garbage);
    const daemon = new DaemonProcess(["--config", config]);
    await daemon.waitForLog(/sensord started/);
    const aside = readdirSync(dir).filter((name) => name.startsWith("sensord.db.corrupt-"));
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(dir, aside[0] ?? "")).equals(garbage)).toBe(true);
    expect(daemon.log).toMatch(/ERROR .*sensord\.db.*corrupt-/);
    await waitUntil(() => readings(config).length > 0, 5000, "readings in the fresh database");
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
    expect(existsSync(join(dir, "sensord.db"))).toBe(true);
  });
});
