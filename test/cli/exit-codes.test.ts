import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cleanEnv, makeTempDir, sensorctl, sensordSync } from "../support/processes.js";

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = makeTempDir());
});
afterEach(() => cleanup());

function configFile(text: string): string {
  const file = join(dir, "sensord.toml");
  writeFileSync(file, text);
  return file;
}

const VALID = `[storage]\npath = "sensord.db"\n\n[[sensors]]\nid = "gas0"\ndriver = "sim"\n`;

describe("sensord exit codes", () => {
  it("exits 78 naming the file, the key and the fix for a bad config", () => {
    const file = configFile(
      `[storage]\npath = "x.db"\nflush_intervall = "1s"\n\n[[sensors]]\nid = "gas0"\ndriver = "sim"\ninterval = "5 parsecs"\n`,
    );
    const result = sensordSync(["--config", file]);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain(file);
    expect(result.stderr).toContain("storage.flush_intervall");
    expect(result.stderr).toContain('did you mean "flush_interval"');
    expect(result.stderr).toContain("sensors[0].interval");
    expect(result.stderr).toContain('"250ms"');
  });

  it.each([
    ["an unknown key", '[device]\ngroop = "2"\n', "device.groop", 'did you mean "group"'],
    ["a wrong type", "[device]\nid = 5\n", "device.id", 'put it in quotes: id = "5"'],
    ["a bad duration", '[storage]\nflush_interval = "soon"\n', "storage.flush_interval", '"250ms"'],
    ["a bad size", '[storage]\nmax_bytes = "lots"\n', "storage.max_bytes", '"64MiB"'],
    [
      "a bad unit",
      '[sensors.channels.no2]\nunit = "ppx"\n',
      "sensors[0].channels.no2.unit",
      'did you mean "ppm"',
    ],
    [
      "a missing replay file",
      'driver = "replay"\nfile = "gone.ndjson"\n',
      "sensors[0].file",
      "gone.ndjson",
    ],
  ])("exits 78 for %s, naming the key and the fix", (_what, snippet, key, fix) => {
    // Sensor-level snippets continue the [[sensors]] table; the others add a section before it.
    const sensorLevel = !snippet.startsWith("[device]") && !snippet.startsWith("[storage]");
    const text = sensorLevel
      ? `[[sensors]]\nid = "gas0"\n${snippet.startsWith("driver") ? "" : 'driver = "sim"\n'}${snippet}`
      : `${snippet}\n[[sensors]]\nid = "gas0"\ndriver = "sim"\n`;
    const result = sensordSync(["--config", configFile(text)]);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain(join(dir, "sensord.toml"));
    expect(result.stderr).toContain(`${key}:`);
    expect(result.stderr).toContain(fix);
  });

  it("exits 78 when the config file does not exist, and says how to fix it", () => {
    const result = sensordSync(["--config", join(dir, "nope.toml")]);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain(`${join(dir, "nope.toml")} does not exist`);
    // With no file anywhere, it points at the default path and at --simulate.
    const bare = sensordSync([], { cwd: dir });
    expect(bare.code).toBe(78);
    expect(bare.stderr).toContain("/etc/sensord/sensord.toml");
    expect(bare.stderr).toContain("--simulate");
  });

  it("exits 78 for a device id MQTT topics cannot carry, naming the key and what is allowed", () => {
    const file = configFile(
      `[device]\nid = "lab/#/+"\n\n[[sensors]]\nid = "gas0"\ndriver = "sim"\n\n[mqtt]\nurl = "mqtt://127.0.0.1:1"\nhomeassistant = true\n`,
    );
    for (const result of [sensordSync(["--config", file]), sensorctl(["config", "check", file])]) {
      expect(result.code).toBe(78);
      expect(result.stderr).toContain(file);
      expect(result.stderr).toContain('device.id: "lab/#/+" cannot be used with [mqtt]');
      expect(result.stderr).toContain('use letters, digits, "-", "_" and "."');
    }
  });

  it("takes the config path from $SENSORD_CONFIG", () => {
    configFile("[device]\nnonsense = 1\n");
    const result = sensordSync([], {
      env: cleanEnv({ SENSORD_CONFIG: join(dir, "sensord.toml") }),
    });
    expect(result.code).toBe(78);
    expect(result.stderr).toContain("device.nonsense");
  });

  it("exits 2 on an unknown option and 0 on --version", () => {
    const bad = sensordSync(["--frobnicate"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^sensord: unknown option '--frobnicate'/);
    const version = sensordSync(["--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe("sensorctl exit codes", () => {
  it.each([
    [["readings", "--limit", "-5"], "--limit"],
    [["readings", "--limit", "NaN"], "--limit"],
    [["readings", "--gas", "xenon"], "xenon"],
    [["readings", "--since", "yesterday-ish"], "--since"],
    [["readings", "--format", "xml"], "--format"],
    [["alerts", "--format", "csv"], "--format"],
    [["frobnicate"], "frobnicate"],
  ])("exits 2 for %j and names the argument", (args, named) => {
    const result = sensorctl(["--config", configFile(VALID), ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(named);
  });

  it("config check: 0 and the effective config for a valid file, 78 for a bad one", () => {
    const good = sensorctl(["config", "check", configFile(VALID)]);
    expect(good.code).toBe(0);
    expect(good.stdout).toContain("valid");
    expect(good.stdout).toContain('flush_interval = "1s"');
    expect(good.stdout).toContain('driver = "sim"');
    const bad = sensorctl([
      "config",
      "check",
      configFile(`${VALID}\n[[thresholds]]\ngas = "no2"\nvalue = 88\nunit = "ppx"\n`),
    ]);
    expect(bad.code).toBe(78);
    expect(bad.stderr).toContain("thresholds[0].unit");
  });

  it("exits 1 with a clear message when there is no database yet", () => {
    const result = sensorctl(["--config", configFile(VALID), "readings"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(join(dir, "sensord.db"));
  });
});
