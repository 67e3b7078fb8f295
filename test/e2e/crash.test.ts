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
  waitUntil,
} from "../support/processes.js";

const KILLS = 20;

/** The highest reading seq committed (read directly: cheaper than a sensorctl per poll). */
function committedMaxSeq(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return (
      db.prepare<[], { seq: number | null }>("SELECT max(seq) AS seq FROM readings").get()?.seq ?? 0
    );
  } finally {
    db.close();
  }
}

/** The sequence in a reading id (`<prefix>-r<seq in base 36>`, README "How a reading flows"). */
function seqOf(id: string): number {
  const match = /^[a-z2-7]{10}-r([0-9a-z]+)$/.exec(id);
  if (match?.[1] === undefined) throw new Error(`not a reading id: ${id}`);
  return Number.parseInt(match[1], 36);
}

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

  it(`loses nothing committed and never reuses an id across ${KILLS} crashes`, {
    timeout: 120_000,
  }, async () => {
    const configFile = join(dir, "sensord.toml");
    const seen = new Map<string, Reading>();
    const readAll = () =>
      jsonLines<Reading>(
        sensorctl(["--config", configFile, "readings", "--format", "json", "--limit", "10000000"])
          .stdout,
      );
    // What the last crash left committed: its ids, and the highest seq among them.
    let before = new Set<string>();
    let highest = 0;

    for (let round = 0; round < KILLS; round++) {
      const daemon = new DaemonProcess(["--config", configFile]);
      await daemon.waitForLog(/sensord started/);
      // This run's own readings, committed: the kill must land on a sequence
      // that went on after the last crash, or there is nothing to check.
      await waitUntil(
        () => committedMaxSeq(join(dir, "sensord.db")) > highest,
        15_000,
        `round ${round} to commit readings of its own`,
      );
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 400));
      for (const reading of readAll()) seen.set(reading.id, reading);
      // Keep sampling a little after the look, so the kill lands mid-flush at some point.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 60));
      daemon.signal("SIGKILL");
      expect((await daemon.exited).signal).toBe("SIGKILL");

      const db = new Database(join(dir, "sensord.db"), { readonly: true });
      expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
      db.close();

      const after = readAll();
      const byId = new Map(after.map((reading) => [reading.id, reading]));
      // Every reading seen committed, in this round or an earlier one, is still
      // there with the same values: no id was taken over by another reading.
      for (const [id, reading] of seen) expect(byId.get(id)).toEqual(reading);
      // This run went on above everything the last crash left: its new ids
      // reuse no seq of the sequence so far, committed or not.
      const fresh = after.filter((reading) => !before.has(reading.id));
      expect(fresh.length).toBeGreaterThan(0);
      for (const reading of fresh) expect(seqOf(reading.id)).toBeGreaterThan(highest);
      before = new Set(byId.keys());
      highest = Math.max(...after.map((reading) => seqOf(reading.id)));
    }

    const final = readAll();
    expect(final.length).toBeGreaterThan(KILLS * 5);
    // Every round continued the same id sequence: one prefix.
    expect(new Set(final.map((reading) => reading.id.split("-")[0])).size).toBe(1);
  });
});
