import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore } from "../../daemon/store/store.js";
import { memoryLogger } from "../store/helpers.js";
import { makeTempDir, sensorctl } from "../support/processes.js";

let dir: string;
let cleanup: () => void;

/** A config and its (existing) database; sensord is not running, so sensorctl writes the overrides itself. */
function setup(extra = ""): string {
  const file = join(dir, "sensord.toml");
  writeFileSync(
    file,
    `[storage]\npath = "sensord.db"\n\n[control]\nsocket = "sensord.sock"\n\n[[sensors]]\nid = "gas0"\ndriver = "sim"\n${extra}`,
  );
  openStore({
    path: join(dir, "sensord.db"),
    maxBytes: 64 * 1024 ** 2,
    log: memoryLogger(),
  }).close();
  return file;
}

beforeEach(() => {
  ({ dir, cleanup } = makeTempDir());
});
afterEach(() => cleanup());

/** The command a message says to run, as arguments. */
function suggested(text: string): string[] {
  const match = /`sensorctl (threshold reset [^`]+)`/.exec(text);
  if (!match?.[1]) throw new Error(`no reset command in: ${text}`);
  return match[1].split(" ");
}

describe("threshold rm: the way back", () => {
  it("a preset rule of another severity: the hint carries --severity, names the preset, and works", () => {
    const config = setup();
    const rm = sensorctl(["--config", config, "threshold", "rm", "co", "--severity", "critical"]);
    expect(rm.code).toBe(0);
    expect(rm.stdout).toContain("the safety preset's co>=200ppm:critical");
    expect(suggested(rm.stdout)).toEqual(["threshold", "reset", "co", "--severity", "critical"]);
    const reset = sensorctl(["--config", config, ...suggested(rm.stdout)]);
    expect(reset.stderr).toBe("");
    expect(reset.code).toBe(0);
    expect(reset.stdout).toContain("co>=200ppm:critical (safety preset)");
  });

  it("a config file rule of one sensor: the hint carries --sensor too", () => {
    const config = setup(
      '\n[[thresholds]]\ngas = "no2"\nvalue = 100\nunit = "ppb"\nseverity = "critical"\nsensor = "gas0"\n',
    );
    const rm = sensorctl([
      "--config",
      config,
      "threshold",
      "rm",
      "no2",
      "--severity",
      "critical",
      "--sensor",
      "gas0",
    ]);
    expect(rm.code).toBe(0);
    expect(rm.stdout).toContain("the config file's gas0/no2>=100ppb:critical");
    expect(suggested(rm.stdout)).toEqual([
      "threshold",
      "reset",
      "no2",
      "--severity",
      "critical",
      "--sensor",
      "gas0",
    ]);
    expect(sensorctl(["--config", config, ...suggested(rm.stdout)]).code).toBe(0);
  });
});

describe("threshold set: rules that cannot be meant", () => {
  it.each([
    [["co", "-5", "--unit", "ppm"], "always"],
    [["co", "0", "--unit", "ppm"], "always"],
    [["no2", "-1", "--op", ">", "--unit", "ppb"], "always"],
    [["co", "-2", "--op", "<=", "--unit", "ppm"], "never"],
    [["co", "0", "--op", "<", "--unit", "ppm"], "never"],
  ])("refuses %j: a concentration is never below 0, so it would %s be in alarm", (args, when) => {
    const result = sensorctl(["--config", setup(), "threshold", "set", ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("<value>:");
    expect(result.stderr).toContain(`${when === "always" ? "always" : "never"}`);
    expect(result.stderr).toContain("a concentration is never below 0");
  });

  it("warns (and stores) a critical rule below the warning one", () => {
    const config = setup();
    const result = sensorctl([
      "--config",
      config,
      "threshold",
      "set",
      "co",
      "30",
      "--unit",
      "ppm",
      "--severity",
      "critical",
    ]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(
      "sensorctl: warning: the critical rule co>=30ppm:critical raises below the warning rule co>=35ppm:warning (preset): " +
        "the critical alarm comes first; move it above 35 ppm, or move the warning rule\n",
    );
    const list = sensorctl(["--config", config, "threshold", "list"]);
    expect(list.stdout).toMatch(/override\s+co\s+>= 30 ppm/);
  });

  it("warns about a rule without --unit, naming the unit it is read in", () => {
    const config = setup();
    const result = sensorctl(["--config", config, "threshold", "set", "co", "12"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("co>=12:warning: replaces co>=35ppm:warning (preset)");
    expect(result.stderr).toBe(
      "sensorctl: warning: co>=12:warning has no unit: it is read in the unit the sensors report co in (ppm); give --unit ppm to say so\n",
    );
    const list = sensorctl(["--config", config, "threshold", "list"]);
    expect(list.stdout).toMatch(/override\s+co\s+>= 12 \(channel unit\)\s/);
  });

  it("refuses a rule without --unit when the sensors report the gas in different units", () => {
    const config = setup(
      '\n[[sensors]]\nid = "gm0"\ndriver = "grove-gm"\n\n[sensors.channels.co]\nunit = "raw"\n\n[thresholds_preset]\npreset = "none"\n',
    );
    const result = sensorctl(["--config", config, "threshold", "set", "co", "12"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--unit: gas0 reports co in ppm and gm0 in raw");
  });
});
