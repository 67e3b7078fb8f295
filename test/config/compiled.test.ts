import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compiledChecks, ShapeMismatch } from "../../daemon/config/compiled-checks.js";
import { loadConfig } from "../../daemon/config/load.js";
import { loadDaemonConfig } from "../../daemon/config/load-daemon.js";
import { loadConfigWith } from "../../daemon/config/resolve.js";
import { renderValidators, VALIDATORS_FILE } from "../../schemas/compile.js";
import { sensordSync } from "../support/processes.js";
import { MACHINE, tempDir, writeConfig } from "./helpers.js";

/** What a load ends in: the config, or the ConfigError's message. */
async function outcome(load: () => unknown): Promise<unknown> {
  try {
    return { config: await load() };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

const SENSOR = '[[sensors]]\nid = "gas0"\ndriver = "sim"\n';

/** Good files and files with every kind of shape problem the validators must catch. */
const CASES: Record<string, string> = {
  "sensor only": SENSOR,
  "every section": `${SENSOR}[sync]\nendpoint = "http://127.0.0.1:1/ingest"\ninterval = "5s"\ncompress = false\n[mqtt]\nurl = "mqtt://127.0.0.1:1"\nqos = 0\n[http]\nlisten = "127.0.0.1:9464"\n[control]\nsocket = ""\n[[thresholds]]\ngas = "co"\nvalue = 35\nfor = "10s"\n`,
  "i2c driver with its keys":
    '[[sensors]]\nid = "m"\ndriver = "grove-mics6814"\naddress = 0x04\ngases = ["co", "nh3"]\n',
  "unknown top-level key": `${SENSOR}[synk]\nendpoint = "x"\n`,
  "unknown key in a section": `${SENSOR}[storage]\nflush_intervall = "1s"\n`,
  "another driver's key": `${SENSOR}address = 4\n`,
  "wrong type": `${SENSOR}[sync]\nendpoint = "http://x/"\nbatch_max_readings = "10"\n`,
  "bad duration": `${SENSOR}[storage]\nflush_interval = "1 sec"\n`,
  "unknown gas channel": `${SENSOR}[sensors.channels.c0]\nunit = "ppm"\n`,
  "bad qos": `${SENSOR}[mqtt]\nurl = "mqtt://x"\nqos = 2\n`,
  "repeated gas": '[[sensors]]\nid = "m"\ndriver = "grove-mics6814"\ngases = ["co", "co"]\n',
  "sensors as a table": '[sensors]\nid = "gas0"\ndriver = "sim"\n',
  "missing required key": `${SENSOR}[sync]\nformat = "batch"\n`,
  "unknown driver": '[[sensors]]\nid = "gas0"\ndriver = "simm"\nseed = 1\n',
  "control character in the device id": `${SENSOR}[device]\nid = "pi\\u0007"\n`,
};

describe("the daemon's generated validators (schemas/compiled/validators.js)", () => {
  it("are what schemas/compile.ts generates from the TypeBox schemas now", () => {
    expect(readFileSync(VALIDATORS_FILE, "utf8")).toBe(renderValidators());
  });

  for (const [name, text] of Object.entries(CASES)) {
    it(`load like sensorctl's loader: ${name}`, async () => {
      const path = writeConfig(text);
      const options = { flagPath: path, env: {}, simulate: false, machine: MACHINE };
      const daemon = await outcome(() => loadDaemonConfig(options));
      const explained = await outcome(() => loadConfig(options));
      expect(daemon).toEqual(explained);
      // A good file never takes the TypeBox path; a bad one takes it unless its only
      // problems are beyond the schema (an unknown driver), which both report alike.
      const compiled = await outcome(() => {
        try {
          return loadConfigWith(compiledChecks, options);
        } catch (error) {
          if (error instanceof ShapeMismatch) return "shape mismatch";
          throw error;
        }
      });
      if ("config" in (explained as object)) expect(compiled).toEqual(explained);
      else expect([{ config: "shape mismatch" }, explained]).toContainEqual(compiled);
    });
  }

  it("a bad file still names the key and its fix, exit 78, through the binary", () => {
    const path = writeConfig(
      `${SENSOR}[storage]\nflush_intervall = "1s"\n`,
      "sensord.toml",
      tempDir(),
    );
    const result = sensordSync(["--config", path]);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain(path);
    expect(result.stderr).toContain(
      'storage.flush_intervall: unknown key "flush_intervall" in storage; did you mean "flush_interval"?',
    );
  });
});
