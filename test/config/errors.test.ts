import { describe, expect, it } from "vitest";
import { DURATION_HINT } from "../../core/duration.js";
import { ConfigError } from "../../core/errors.js";
import { SIZE_HINT } from "../../core/size.js";
import { configError, load, ONE_SENSOR, problemsOf, writeConfig } from "./helpers.js";

/** Asserts that loading `text` reports exactly one problem, at `key`, mentioning each phrase. */
function expectOnly(text: string, key: string, ...phrases: string[]): void {
  const problems = problemsOf(text);
  expect([...problems.keys()]).toEqual([key]);
  for (const phrase of phrases) expect(problems.get(key)).toContain(phrase);
}

describe("each kind of mistake names the key and the fix", () => {
  it("unknown key, with a did-you-mean among the allowed keys", () => {
    expectOnly(
      `${ONE_SENSOR}intervall = "2s"\n`,
      "sensors[0].intervall",
      'unknown key "intervall"',
      'did you mean "interval"?',
      'driver "sim" adds: seed, spike_every',
    );
    expectOnly(
      `[storage]\nflush = "1s"\n${ONE_SENSOR}`,
      "storage.flush",
      'did you mean "flush_interval"?',
    );
    expectOnly(`[devise]\nid = "x"\n${ONE_SENSOR}`, "devise", 'did you mean "device"?');
    expectOnly(
      `[thresholds_preset]\npresets = "none"\n${ONE_SENSOR}`,
      "thresholds_preset.presets",
      'did you mean "preset"?',
    );
  });

  it("a device id or group the ingest would refuse: over 64 characters, or a control character", () => {
    expectOnly(
      `[device]\nid = "${"d".repeat(65)}"\n${ONE_SENSOR}`,
      "device.id",
      "Expected string length less or equal to 64",
    );
    expectOnly(
      `[device]\ngroup = "lab\\t2"\n${ONE_SENSOR}`,
      "device.group",
      "holds a control character (tab, newline, NUL...); use printable characters only",
    );
  });

  it("driver-specific keys are unknown for other drivers", () => {
    expectOnly(`${ONE_SENSOR}file = "x.ndjson"\n`, "sensors[0].file", 'unknown key "file"');
  });

  it("wrong type: expected vs got, with the value", () => {
    expectOnly(
      `[device]\ngroup = 2\n${ONE_SENSOR}`,
      "device.group",
      "expected a string, got integer 2",
      'group = "2"',
    );
    expectOnly(
      `${ONE_SENSOR}seed = "seven"\n`,
      "sensors[0].seed",
      'expected an integer, got string "seven"',
    );
    expectOnly(
      `${ONE_SENSOR}[[thresholds]]\ngas = "co"\nvalue = "35"\n`,
      "thresholds[0].value",
      'expected a number, got string "35"',
      "remove the quotes: value = 35",
    );
    expectOnly(
      `${ONE_SENSOR}[log]\nlevel = true\n`,
      "log.level",
      "got boolean true",
      "error",
      "debug",
    );
    expectOnly(
      `[sensors]\nid = "gas0"\ndriver = "sim"\n`,
      "sensors",
      "expected an array, got table",
      "[[sensors]]",
    );
  });

  it("bad duration and bad size use the hints", () => {
    expectOnly(`${ONE_SENSOR}interval = "1 sec"\n`, "sensors[0].interval", DURATION_HINT);
    expectOnly(`${ONE_SENSOR}warmup = 30\n`, "sensors[0].warmup", DURATION_HINT, "integer 30");
    expectOnly(`[storage]\nmax_bytes = "lots"\n${ONE_SENSOR}`, "storage.max_bytes", SIZE_HINT);
    expectOnly(
      `${ONE_SENSOR}[[thresholds]]\ngas = "co"\nvalue = 35\nfor = "a while"\n`,
      "thresholds[0].for",
      DURATION_HINT,
    );
  });

  it("durations and sizes out of range say the limits", () => {
    expectOnly(
      `[storage]\nflush_interval = "5ms"\n${ONE_SENSOR}`,
      "storage.flush_interval",
      'from "10ms" to "10m"',
    );
    expectOnly(
      `[storage]\nflush_interval = "11m"\n${ONE_SENSOR}`,
      "storage.flush_interval",
      'from "10ms" to "10m"',
    );
    expectOnly(`[storage]\nmax_bytes = "512KiB"\n${ONE_SENSOR}`, "storage.max_bytes", '"1MiB"');
    expectOnly(`${ONE_SENSOR}interval = "5ms"\n`, "sensors[0].interval", 'at least "10ms"');
    expectOnly(
      `${ONE_SENSOR}interval = "0s"\n`,
      "sensors[0].interval",
      'not allowed for driver "sim"',
      '"replay"',
    );
  });

  it("bad unit lists the valid units", () => {
    expectOnly(
      `${ONE_SENSOR}[sensors.channels.co]\nunit = "ppmm"\n`,
      "sensors[0].channels.co.unit",
      'unknown unit "ppmm"',
      'did you mean "ppm"?',
      "ppm, ppb, %, V, mV, raw",
    );
  });

  it("unknown gas lists the gases, both as a channel and in a rule", () => {
    expectOnly(
      `${ONE_SENSOR}[sensors.channels.no3]\nunit = "ppb"\n`,
      "sensors[0].channels.no3",
      'unknown gas "no3"',
      'did you mean "no2"?',
      "co, no2, c2h5oh",
    );
    expectOnly(
      `${ONE_SENSOR}[[thresholds]]\ngas = "n02"\nvalue = 88\n`,
      "thresholds[0].gas",
      'unknown gas "n02"',
      'did you mean "no2"?',
      "co, no2, c2h5oh",
    );
  });

  it("unknown driver lists the drivers", () => {
    expectOnly(
      `[[sensors]]\nid = "gas0"\ndriver = "smi"\n`,
      "sensors[0].driver",
      'unknown driver "smi"',
      'did you mean "sim"?',
      "sim, replay",
    );
    expectOnly(`[[sensors]]\nid = "gas0"\n`, "sensors[0].driver", 'add driver = "sim"', "replay");
  });

  it("duplicate sensor id, and a malformed one", () => {
    expectOnly(
      `${ONE_SENSOR}${ONE_SENSOR}`,
      "sensors[1].id",
      'duplicate sensor id "gas0"',
      "sensors[0].id",
    );
    expectOnly(
      `[[sensors]]\nid = "gas 0"\ndriver = "sim"\n`,
      "sensors[0].id",
      "not a valid sensor id",
    );
    expectOnly(
      `[[sensors]]\nid = "${"a".repeat(65)}"\ndriver = "sim"\n`,
      "sensors[0].id",
      "at most 64 characters",
    );
  });

  it("replay file missing (the driver's own check), relative to the config folder", () => {
    expectOnly(
      `[[sensors]]\nid = "rec"\ndriver = "replay"\nfile = "missing.ndjson"\n`,
      "sensors[0].file",
      "missing.ndjson",
      "fix the path",
    );
    expectOnly(
      `[[sensors]]\nid = "rec"\ndriver = "replay"\n`,
      "sensors[0].file",
      "missing; add file",
    );
  });

  it("threshold unit not convertible to the channel's unit", () => {
    expectOnly(
      `${ONE_SENSOR}[[thresholds]]\ngas = "voc"\nvalue = 5\nunit = "ppm"\n`,
      "thresholds[0].unit",
      'threshold unit "ppm" cannot be compared with voc readings in "raw"',
      "leave the unit out",
    );
    expectOnly(
      `${ONE_SENSOR}[sensors.channels.co]\nunit = "mV"\n[[thresholds]]\ngas = "co"\nvalue = 35\nunit = "ppm"\nsensor = "gas0"\n`,
      "thresholds[0].unit",
      '"mV"',
      "sensor gas0",
    );
  });

  it("a preset rule that cannot apply to a configured channel unit is reported at the channel", () => {
    expectOnly(
      `${ONE_SENSOR}[sensors.channels.co]\nunit = "raw"\n`,
      "sensors[0].channels.co.unit",
      "safety preset's rule co>=35ppm:warning",
      'preset = "none"',
    );
  });

  it("threshold sensor must be configured", () => {
    expectOnly(
      `${ONE_SENSOR}[[thresholds]]\ngas = "co"\nvalue = 35\nsensor = "gas1"\n`,
      "thresholds[0].sensor",
      'no sensor "gas1" is configured',
      'did you mean "gas0"?',
      "leave sensor out",
    );
  });

  it("clear on the alarming side of the value, and duplicate rules", () => {
    expectOnly(
      `${ONE_SENSOR}[[thresholds]]\ngas = "co"\nvalue = 35\nclear = 40\n`,
      "thresholds[0].clear",
      "at or below the threshold 35",
    );
    expectOnly(
      `${ONE_SENSOR}[[thresholds]]\ngas = "o2"\nop = "<"\nvalue = 19.5\nclear = 19\n`,
      "thresholds[0].clear",
      "at or above",
    );
    const rule = '[[thresholds]]\ngas = "co"\nvalue = 35\n';
    expectOnly(`${ONE_SENSOR}${rule}${rule}`, "thresholds[1]", "same rule as thresholds[0]");
  });

  it("device.gps and device.timezone are validated", () => {
    expectOnly(`[device]\ngps = "north"\n${ONE_SENSOR}`, "device.gps", '"lat, lng"');
    expectOnly(`[device]\ngps = "95.0, 10"\n${ONE_SENSOR}`, "device.gps", "latitude 95");
    expectOnly(`[device]\ngps = "37.61, -181"\n${ONE_SENSOR}`, "device.gps", "longitude -181");
    expectOnly(
      `[device]\ntimezone = "Asia/Seol"\n${ONE_SENSOR}`,
      "device.timezone",
      'did you mean "Asia/Seoul"?',
      "IANA",
    );
    expectOnly(`[device]\ntimezone = "+09:00"\n${ONE_SENSOR}`, "device.timezone", "IANA");
  });

  it("no sensors at all", () => {
    expectOnly(`[device]\nid = "x"\n`, "sensors", "no sensors configured", "[[sensors]]");
  });

  it("a threshold a concentration can never reach the other side of: always or never in alarm", () => {
    expectOnly(
      `${ONE_SENSOR}\n[[thresholds]]\ngas = "co"\nvalue = -5\nunit = "ppm"\n`,
      "thresholds[0].value",
      "a concentration is never below 0, so co >= -5 ppm would always be in alarm",
    );
    expectOnly(
      `${ONE_SENSOR}\n[[thresholds]]\ngas = "no2"\nop = "<"\nvalue = 0\n`,
      "thresholds[0].value",
      "no2 < 0 ppb would never raise",
    );
  });

  it("an unterminated string is called that, with its line (not 'control characters')", () => {
    for (const text of [
      `[device]\nid = "pi-lab-3\ngroup = "2"\n${ONE_SENSOR}`,
      `[device]\nid = 'pi-lab-3\n${ONE_SENSOR}`,
      `${ONE_SENSOR}[device]\nid = "pi-lab-3`,
    ]) {
      const problems = problemsOf(text);
      const line = text.split("\n").findIndex((row) => row.includes("pi-lab-3")) + 1;
      expect([...problems.keys()]).toEqual(["toml"]);
      expect(problems.get("toml")).toContain(
        `unterminated string at line ${line}, column 6: close it with the quote it opens with on the same line`,
      );
      expect(problems.get("toml")).not.toContain("control characters");
    }
  });

  it("TOML syntax error with line and column", () => {
    expectOnly(`[device]\nid = "x"\ngroup = \n`, "toml", "line 3, column", "syntax error");
    expectOnly(`${ONE_SENSOR}[device]\n[device]\n`, "toml", "line 6");
  });
});

describe("several mistakes", () => {
  it("are all reported in one ConfigError, in file order", () => {
    const path = writeConfig(`
[device]
group = 2
gps = "37.6, 200"

[storage]
flush_interval = "soon"

[[sensors]]
id = "gas0"
driver = "sim"
intervall = "1s"

[[sensors]]
id = "gas0"
driver = "smi"

[[thresholds]]
gas = "voc"
value = 5
unit = "ppm"
sensor = "gas9"

[thresholds_preset]
preset = "orig"
`);
    const all = configError(() => load(path));
    expect(all).toBeInstanceOf(ConfigError);
    expect(all.file).toBe(path);
    expect(all.problems.map((problem) => problem.key)).toEqual([
      "device.group",
      "device.gps",
      "storage.flush_interval",
      "sensors[0].intervall",
      "sensors[1].driver",
      "sensors[1].id",
      "thresholds[0].sensor",
      "thresholds[0].unit",
      "thresholds_preset.preset",
    ]);
    expect(all.message).toContain(`invalid configuration in ${path}:`);
    expect(all.message).toContain("  device.group: expected a string");
  });

  it("follow the sections' order whatever order the file has them in", () => {
    // [sync] and [mqtt] written first, [device] last: the order is the
    // schema's (device before sync), the same for every file.
    const path = writeConfig(`
[http]
listen = 80

[control]
socket = 5

[mqtt]
url = "ftp://x"

[sync]
endpoint = "not a url"

${ONE_SENSOR}
[device]
group = 2
`);
    expect(configError(() => load(path)).problems.map((problem) => problem.key)).toEqual([
      "device.group",
      "sync.endpoint",
      "mqtt.url",
      "control.socket",
      "http.listen",
    ]);
  });
});
