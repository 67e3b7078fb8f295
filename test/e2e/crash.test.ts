import { writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Reading } from "../../schemas/reading.js";
import {
  DaemonProcess,
  jsonLines,
  killAllDaemons,
  makeTempDir,
  sensorctl,
} from "../support/processes.js";

const KILLS = 20;

describe("kill -9 at random moments", () => {
  let dir: string;
  let cleanup: () => void;
  beforeAll(() => {
    ({ dir, cleanup } = makeTempDir("sensord-crash-"));
    writeFileSync(
      join(dir, "sensord.toml"),
      `
[storage]
path = "sensord.db"
flush_interval = "20ms"

[[sensors]]
id = "fast"
driver = "sim"
interval = "10ms"
seed = 11
spike_every = "500ms"

[[sensors]]
id = "slow"
driver = "sim"
interval = "25ms"
`,
    );
  });
  afterAll(async () => {
    await killAllDaemons();
    cleanup();
  });

  it(`loses nothing committed and repeats no id across ${KILLS} crashes`, {
    timeout: 120_000,
  }, async () => {
    const configFile = join(dir, "sensord.toml");
    const seen = new Map<string, Reading>();
    const readAll = () =>
      jsonLines<Reading>(
        sensorctl(["--config", configFile, "readings", "--format", "json", "--limit", "10000000"])
          .stdout,
      );

    for (let round = 0; round < KILLS; round++) {
      const daemon = new DaemonProcess(["--config", configFile]);
      await daemon.waitForLog(/sensord started/);
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 400));
      for (const reading of readAll()) seen.set(reading.id, reading);
      // Keep sampling a little after the look, so the kill lands mid-flush at some point.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 60));
      daemon.signal("SIGKILL");
      expect((await daemon.exited).signal).toBe("SIGKILL");

      const db = new Database(join(dir, "sensord.db"), { readonly: true });
      expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
      db.close();

      const after = new Map(readAll().map((reading) => [reading.id, reading]));
      for (const [id, reading] of seen) expect(after.get(id)).toEqual(reading);
    }

    const final = readAll();
    expect(new Set(final.map((reading) => reading.id)).size).toBe(final.length);
    expect(final.length).toBeGreaterThan(KILLS * 5);
    // Every round continued the same id sequence: one prefix, no gaps reused.
    expect(new Set(final.map((reading) => reading.id.split("-")[0])).size).toBe(1);
  });
});
