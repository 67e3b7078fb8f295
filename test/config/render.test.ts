import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultConfig, parseConfig } from "../../daemon/config/load.js";
import { renderConfig } from "../../daemon/config/render.js";
import type { SensordConfig } from "../../schemas/config-types.js";
import { load, MACHINE, ONE_SENSOR, tempDir, writeConfig } from "./helpers.js";

/** Renders `config`, writes it over its own file, and loads it again. */
function roundTrip(config: SensordConfig, path: string): SensordConfig {
  writeFileSync(path, renderConfig(config));
  return load(path);
}

describe("renderConfig", () => {
  it("writes durations, sizes, absolute paths and the effective rules as TOML", () => {
    const dir = tempDir();
    const config = load(
      writeConfig(
        `[storage]\npath = "db/s.db"\nflush_interval = "90s"\nmax_bytes = "64MiB"\n${ONE_SENSOR}`,
        "sensord.toml",
        dir,
      ),
    );
    const text = renderConfig(config);
    expect(text).toContain('flush_interval = "1m30s"');
    expect(text).toContain('max_bytes = "64MiB"');
    expect(text).toContain(`path = "${join(dir, "db/s.db")}"`);
    expect(text).toContain('interval = "1s"');
    expect(text).toContain('preset = "safety"');
    expect(text.match(/^\[\[thresholds\]\]$/gm)).toHaveLength(config.thresholds.length);
    expect(text.startsWith("# sensord effective configuration")).toBe(true);
  });

  it("round-trips a full config: render then parse gives the same resolved config", () => {
    const dir = tempDir();
    mkdirSync(join(dir, "rec"));
    writeFileSync(join(dir, "rec/a.ndjson"), '{"co": 1}\n');
    const path = writeConfig(
      `[device]
id = "pi-lab-3"
group = "2"
gps = "37.6100, 126.9963"
timezone = "Asia/Seoul"

[storage]
path = "sensord.db"
flush_interval = "250ms"
max_bytes = "1500000B"

[log]
level = "warn"

[[sensors]]
id = "gas0"
driver = "sim"
interval = "2s"
warmup = "1m"
seed = 3
[sensors.channels.no2]
unit = "ppm"
sensor_id = "0006"
sensor_type = "9"

[[sensors]]
id = "rec"
driver = "replay"
interval = "0s"
file = "rec/a.ndjson"

[[thresholds]]
gas = "no2"
value = 0.05
unit = "ppm"
clear = 0.04
for = "10s"
severity = "warning"

[[thresholds]]
gas = "o2"
op = "<"
value = 19.5
clear = 20
severity = "critical"
sensor = "rec"

[thresholds_preset]
preset = "safety"
`,
      "sensord.toml",
      dir,
    );
    const config = load(path);
    expect(roundTrip(config, path)).toEqual(config);
  });

  it.each([
    ["the default safety preset", ONE_SENSOR],
    ["user rules only", `${ONE_SENSOR}[[thresholds]]\ngas = "h2"\nvalue = 500\n`],
    ["the original preset", `${ONE_SENSOR}[thresholds_preset]\npreset = "original"\n`],
    ["no rules", `${ONE_SENSOR}[thresholds_preset]\npreset = "none"\n`],
  ])("round-trips %s", (_name, text) => {
    const path = writeConfig(text);
    const config = load(path);
    expect(roundTrip(config, path)).toEqual(config);
  });

  it("round-trips the built-in simulate defaults", () => {
    const cwd = tempDir();
    const config = defaultConfig(cwd, { machine: MACHINE });
    const text = renderConfig(config);
    expect(text).toContain("built-in defaults");
    const reparsed = parseConfig(text, join(cwd, "rendered.toml"), { machine: MACHINE });
    expect({ ...reparsed, source: null }).toEqual(config);
  });
});
