import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach } from "vitest";
import { openStore } from "../../daemon/store/store.js";
import type { NewAlert, NewReading } from "../../schemas/records.js";
import { memoryLogger } from "../store/helpers.js";
import { makeTempDir } from "../support/processes.js";

/**
 * Before each test: a temp dir with a config (one sim sensor, no control
 * socket, so sensorctl reads the database) and its database holding what
 * `fill` returns; removed after. Returns the config's path, read after setup.
 */
export function useStoredConfig(fill: () => { readings: NewReading[]; alerts: NewAlert[] }): {
  config(): string;
} {
  let dir = "";
  let cleanup: () => void = () => {};
  beforeEach(() => {
    ({ dir, cleanup } = makeTempDir());
    writeFileSync(
      join(dir, "sensord.toml"),
      `[storage]\npath = "sensord.db"\n\n[control]\nsocket = ""\n\n[[sensors]]\nid = "gas0"\ndriver = "sim"\n`,
    );
    const store = openStore({
      path: join(dir, "sensord.db"),
      maxBytes: 64 * 1024 ** 2,
      log: memoryLogger(),
    });
    const { readings, alerts } = fill();
    store.commit(readings, alerts);
    store.close();
  });
  afterEach(() => cleanup());
  return { config: () => join(dir, "sensord.toml") };
}
