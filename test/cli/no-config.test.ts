import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_CONFIG_PATH } from "../../daemon/config/locate.js";
import { openStore } from "../../daemon/store/store.js";
import { memoryLogger, readings } from "../store/helpers.js";
import { jsonLines, makeTempDir, sensorctl } from "../support/processes.js";

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = makeTempDir());
});
afterEach(() => cleanup());

// The default path is real: on a machine with sensord installed there is a config to find.
describe.skipIf(existsSync(DEFAULT_CONFIG_PATH))("sensorctl with no config file anywhere", () => {
  it.each([
    [["status"]],
    [["threshold", "list"]],
    [["threshold", "set", "co", "12", "--unit", "ppm"]],
    [["threshold", "rm", "co"]],
    [["threshold", "reset", "co"]],
    [["readings"]],
    [["alerts"]],
    [["sync", "now"]],
    [["watch"]],
    [["config", "check"]],
  ])("%j says there is none and how to name one (exit 78), inventing nothing", (args) => {
    const result = sensorctl(args, { cwd: dir });
    expect(result.code).toBe(78);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(`${DEFAULT_CONFIG_PATH} does not exist`);
    expect(result.stderr).toContain("pass --config FILE (or set SENSORD_CONFIG=FILE)");
    expect(result.stderr).toContain("--simulate");
    expect(result.stderr).not.toContain("gas0");
  });

  it("--simulate reads what `sensord --simulate` keeps in ./var/ (its built-in defaults)", () => {
    mkdirSync(join(dir, "var"));
    const store = openStore({
      path: join(dir, "var", "sensord.db"),
      maxBytes: 64 * 1024 ** 2,
      log: memoryLogger(),
    });
    store.commit(readings(0, 3), []);
    store.close();
    const result = sensorctl(["--simulate", "readings", "--format", "json"], { cwd: dir });
    expect(result.code).toBe(0);
    expect(jsonLines(result.stdout)).toHaveLength(3);
    const check = sensorctl(["--simulate", "config", "check"], { cwd: dir });
    expect(check.code).toBe(0);
    expect(check.stdout).toContain("# built-in defaults: valid");
  });
});
