import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { EXIT_CONFIG } from "../../core/errors.js";
import { defaultConfig, loadConfig, parseConfig } from "../../daemon/config/load.js";
import { CONFIG_ENV } from "../../daemon/config/locate.js";
import { ORIGINAL_RULES, SAFETY_RULES } from "../../daemon/thresholds/presets.js";
import {
  configError,
  load,
  loadText,
  MACHINE,
  ONE_SENSOR,
  tempDir,
  writeConfig,
} from "./helpers.js";

const FULL = `
[device]
id = "pi-lab-3"
group = "2"
gps = "37.6100, 126.9963"
timezone = "Asia/Seoul"

[storage]
path = "data/sensord.db"
flush_interval = "250ms"
max_bytes = "64MiB"

[log]
level = "debug"

[[sensors]]
id = "gas0"
driver = "sim"
interval = "500ms"
warmup = "2m"
seed = 7
spike_every = "30s"
[sensors.channels.no2]
unit = "ppb"
sensor_id = "0006"
sensor_type = "9"
[sensors.channels.co]

[[sensors]]
id = "rec.1"
driver = "replay"
interval = "0s"
file = "recordings/day1.ndjson"
loop = true

[[thresholds]]
gas = "no2"
op = ">"
value = 100
unit = "ppm"
clear = 0.09
for = "1m30s"
severity = "critical"
sensor = "gas0"

[thresholds_preset]
preset = "original"
`;

describe("a valid config", () => {
  it("resolves every value: ms, bytes, paths against the config folder, defaults", () => {
    const dir = tempDir();
    mkdirSync(join(dir, "recordings"));
    writeFileSync(join(dir, "recordings/day1.ndjson"), '{"co": 1}\n');
    const path = writeConfig(FULL, "sensord.toml", dir);
    const config = load(path);
    expect(config.source).toBe(path);
    expect(config.device).toEqual({
      id: "pi-lab-3",
      group: "2",
      gps: "37.6100, 126.9963",
      timezone: "Asia/Seoul",
    });
    expect(config.storage).toEqual({
      path: join(dir, "data/sensord.db"),
      flushIntervalMs: 250,
      maxBytes: 64 * 1024 * 1024,
    });
    expect(config.log).toEqual({ level: "debug" });
    expect(config.sensors).toEqual([
      {
        id: "gas0",
        driver: "sim",
        intervalMs: 500,
        warmupMs: 120_000,
        channels: {
          no2: { unit: "ppb", calibration: null, sensorId: "0006", sensorType: "9" },
          co: { unit: "ppm", calibration: null, sensorId: null, sensorType: null },
        },
        options: { seed: 7, spike_every: "30s" },
      },
      {
        id: "rec.1",
        driver: "replay",
        intervalMs: 0,
        warmupMs: 0,
        channels: {},
        options: { file: "recordings/day1.ndjson", loop: true },
      },
    ]);
    const userRule = {
      gas: "no2",
      op: ">",
      value: 100,
      unit: "ppm",
      clear: 0.09,
      forMs: 90_000,
      severity: "critical",
      sensor: "gas0",
    };
    expect(config.thresholdPreset).toBe("original");
    expect(config.thresholds).toEqual([...ORIGINAL_RULES, userRule]);
  });

  it("fills defaults: hostname, group 0, system zone, database path, 1s, 256MiB, info, driver timing", () => {
    const config = loadText(ONE_SENSOR);
    expect(config.device).toEqual({ id: "test-host", group: "0", gps: null, timezone: "UTC" });
    expect(config.storage).toEqual({
      path: "/var/lib/sensord/sensord.db",
      flushIntervalMs: 1000,
      maxBytes: 268_435_456,
    });
    expect(config.log.level).toBe("info");
    expect(config.sensors).toEqual([
      { id: "gas0", driver: "sim", intervalMs: 1000, warmupMs: 0, channels: {}, options: {} },
    ]);
  });

  it("uses this machine's hostname and time zone when none is injected", () => {
    const config = parseConfig(ONE_SENSOR, join(tempDir(), "x.toml"));
    expect(config.device.timezone).toBe(Intl.DateTimeFormat().resolvedOptions().timeZone);
    expect(config.device.id.length).toBeGreaterThan(0);
  });

  it("canonicalizes the time zone name", () => {
    expect(loadText(`[device]\ntimezone = "asia/seoul"\n${ONE_SENSOR}`).device.timezone).toBe(
      "Asia/Seoul",
    );
  });

  it("accepts TOML floats and a UTF-8 byte order mark", () => {
    const config = loadText(
      `\uFEFF${ONE_SENSOR}\n[[thresholds]]\ngas = "co"\nvalue = 35.5\nclear = 30\n`,
    );
    expect(config.thresholds).toEqual([
      {
        gas: "co",
        op: ">=",
        value: 35.5,
        unit: null,
        clear: 30,
        forMs: 0,
        severity: "warning",
        sensor: null,
      },
    ]);
  });
});

describe("where the config comes from", () => {
  const missing = "/nonexistent/sensord.toml";

  it("--simulate without any file: one sim sensor gas0, database ./var/sensord.db, safety rules", () => {
    const cwd = tempDir();
    const config = loadConfig({
      env: {},
      simulate: true,
      cwd,
      defaultPath: missing,
      machine: MACHINE,
    });
    expect(config.source).toBeNull();
    expect(config.storage.path).toBe(join(cwd, "var/sensord.db"));
    expect(config.sensors).toEqual([
      { id: "gas0", driver: "sim", intervalMs: 1000, warmupMs: 0, channels: {}, options: {} },
    ]);
    expect(config.thresholdPreset).toBe("safety");
    expect(config.thresholds).toEqual([...SAFETY_RULES]);
    expect(defaultConfig(cwd, { machine: MACHINE })).toEqual(config);
  });

  it("without --simulate and no file: names the path and the fixes", () => {
    const error = configError(() =>
      loadConfig({ env: {}, simulate: false, defaultPath: missing, machine: MACHINE }),
    );
    expect(error.file).toBe(missing);
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]?.key).toBe("config file");
    expect(error.problems[0]?.message).toContain(`${missing} does not exist`);
    expect(error.problems[0]?.message).toContain("create it");
    expect(error.problems[0]?.message).toContain("--config");
    expect(error.problems[0]?.message).toContain("--simulate");
    expect(error.code).toBe("SENSORD_CONFIG_INVALID");
    expect(EXIT_CONFIG).toBe(78);
  });

  it("an existing default path is used, and --simulate does not override it", () => {
    const path = writeConfig(`[device]\nid = "from-default"\n${ONE_SENSOR}`);
    const config = loadConfig({ env: {}, simulate: true, defaultPath: path, machine: MACHINE });
    expect(config.device.id).toBe("from-default");
    expect(config.source).toBe(path);
  });

  it("$SENSORD_CONFIG beats the default path; --config beats both", () => {
    const fromDefault = writeConfig(`[device]\nid = "default"\n${ONE_SENSOR}`);
    const fromEnv = writeConfig(`[device]\nid = "env"\n${ONE_SENSOR}`);
    const fromFlag = writeConfig(`[device]\nid = "flag"\n${ONE_SENSOR}`);
    const base = { simulate: false, defaultPath: fromDefault, machine: MACHINE };
    expect(loadConfig({ ...base, env: {} }).device.id).toBe("default");
    expect(loadConfig({ ...base, env: { [CONFIG_ENV]: fromEnv } }).device.id).toBe("env");
    expect(loadConfig({ ...base, env: { [CONFIG_ENV]: "" } }).device.id).toBe("default");
    expect(
      loadConfig({ ...base, env: { [CONFIG_ENV]: fromEnv }, flagPath: fromFlag }).device.id,
    ).toBe("flag");
  });

  it("resolves a relative --config against cwd", () => {
    const path = writeConfig(`[device]\nid = "relative"\n${ONE_SENSOR}`);
    const config = loadConfig({
      flagPath: "sensord.toml",
      cwd: resolve(path, ".."),
      env: {},
      simulate: false,
      machine: MACHINE,
    });
    expect(config.device.id).toBe("relative");
  });

  it("a missing --config file is an error even with --simulate", () => {
    const path = join(tempDir(), "typo.toml");
    const error = configError(() =>
      loadConfig({ flagPath: path, env: {}, simulate: true, machine: MACHINE }),
    );
    expect(error.problems).toEqual([
      {
        key: "--config",
        message: `${path} does not exist; create it, or check the path given to --config`,
      },
    ]);
  });

  it("a missing $SENSORD_CONFIG file names the variable", () => {
    const path = join(tempDir(), "gone.toml");
    const error = configError(() =>
      loadConfig({ env: { [CONFIG_ENV]: path }, simulate: false, machine: MACHINE }),
    );
    expect(error.problems[0]?.key).toBe(CONFIG_ENV);
    expect(error.problems[0]?.message).toContain(`check the path in ${CONFIG_ENV}`);
  });

  it("an unreadable file (EACCES) says permission denied and how to fix it", () => {
    const path = writeConfig(ONE_SENSOR);
    const denied = Object.assign(new Error(`EACCES: permission denied, open '${path}'`), {
      code: "EACCES",
    });
    const error = configError(() =>
      loadConfig({
        flagPath: path,
        env: {},
        simulate: false,
        machine: MACHINE,
        readFile: () => {
          throw denied;
        },
      }),
    );
    expect(error.problems[0]?.key).toBe("--config");
    expect(error.problems[0]?.message).toContain(`cannot read ${path}: permission denied`);
    expect(error.problems[0]?.message).toContain("chmod");
  });

  it("a directory instead of a file says so", () => {
    const dir = tempDir();
    const error = configError(() => load(dir));
    expect(error.problems[0]?.message).toContain(`${dir} is a directory`);
  });
});
