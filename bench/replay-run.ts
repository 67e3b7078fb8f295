import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { BenchDaemon } from "./daemon-process.js";
import { writeReplayFile } from "./fixtures.js";

export interface ReplayRun {
  database: string;
  replayFile: string;
  readings: number;
  alerts: number;
  /** From the "sensord started" line until the last reading was visible to another connection. */
  seconds: number;
  /**
   * From the "source exhausted" line until the last reading was visible: sensord
   * commits at once when a finite source ends, so this is polling granularity, not
   * the 0-1 s wait for the next flush the figure used to include.
   */
  tailSeconds: number;
  /** /proc/<pid>/io write_bytes over those seconds. */
  writeBytes: number;
  peakRssBytes: number;
  databaseBytes: number;
}

/** A stuck run must not hang `npm run bench`. */
const REPLAY_DEADLINE_MS = 120_000;

/**
 * The real sensord binary writing `lines` ticks x 4 gases through sampler ->
 * threshold engine -> store: the replay driver at full speed (`interval =
 * "0s"`), default safety thresholds, no [sync]. SIGTERM once every reading is
 * committed, so the database is closed (checkpointed) when this returns.
 */
export async function replayIntoDatabase(
  dir: string,
  name: string,
  lines: number,
): Promise<ReplayRun> {
  const replayFile = join(dir, `${name}.ndjson`);
  const readings = writeReplayFile(replayFile, lines);
  const database = join(dir, `${name}.db`);
  const config = join(dir, `${name}.toml`);
  writeFileSync(
    config,
    [
      "[storage]",
      `path = "${database}"`,
      'flush_interval = "1s"',
      'max_bytes = "4GiB"',
      "[[sensors]]",
      'id = "replay0"',
      'driver = "replay"',
      'interval = "0s"',
      `file = "${replayFile}"`,
    ].join("\n"),
  );
  const daemon = new BenchDaemon(config);
  const killer = setTimeout(() => daemon.child.kill("SIGKILL"), REPLAY_DEADLINE_MS);
  try {
    await daemon.waitForLog(/sensord started/);
    const ioBefore = daemon.io();
    const started = performance.now();
    await daemon.waitForLog(/source exhausted/);
    const exhausted = performance.now();
    // Committed means visible to another connection: poll until the last reading is.
    const db = new Database(database, { readonly: true });
    const countReadings = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM readings");
    while ((countReadings.get()?.n ?? 0) < readings) {
      if (daemon.child.exitCode !== null) throw new Error("sensord exited during the replay");
      await new Promise((resolveWait) => setTimeout(resolveWait, 2));
    }
    const visible = performance.now();
    const seconds = (visible - started) / 1000;
    const tailSeconds = (visible - exhausted) / 1000;
    const writeBytes = daemon.io().writeBytes - ioBefore.writeBytes;
    const peakRssBytes = daemon.peakRssBytes();
    const stored = countReadings.get()?.n ?? 0;
    const alerts = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM alerts").get()?.n ?? 0;
    // Closed before the daemon stops, so the daemon's close is the last and checkpoints the WAL.
    db.close();
    await daemon.stop();
    if (stored !== readings) throw new Error(`sensord stored ${stored} of ${readings} readings`);
    return {
      database,
      replayFile,
      readings,
      alerts,
      seconds,
      tailSeconds,
      writeBytes,
      peakRssBytes,
      databaseBytes: statSync(database).size,
    };
  } finally {
    clearTimeout(killer);
    if (daemon.child.exitCode === null) daemon.child.kill("SIGKILL");
  }
}
