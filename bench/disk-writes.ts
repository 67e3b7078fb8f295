import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const SENSORD = resolve(import.meta.dirname, "../daemon/main.js");
const READINGS_PER_SECOND = 4; // the sim driver: co, no2, c2h5oh, h2 at 1 Hz

export interface DiskResult {
  flushInterval: string;
  windowSeconds: number;
  readings: number;
  writeBytesPerReading: number;
  wcharPerReading: number;
  peakRssBytes: number;
}

function procIo(pid: number): { writeBytes: number; wchar: number } {
  const fields = new Map(
    readFileSync(`/proc/${pid}/io`, "utf8")
      .trim()
      .split("\n")
      .map((line) => {
        const [key = "", value = "0"] = line.split(":");
        return [key.trim(), Number(value.trim())] as const;
      }),
  );
  return { writeBytes: fields.get("write_bytes") ?? 0, wchar: fields.get("wchar") ?? 0 };
}

function peakRss(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(match?.[1] ?? 0) * 1024;
}

/**
 * One sensord process on the sim driver (4 gases at 1 Hz) for `windowSeconds`
 * of steady state; bytes from /proc/<pid>/io over that window divided by the
 * readings sampled in it. `write_bytes` is what reached the block layer,
 * `wchar` what the process handed to write(2).
 */
export async function benchDiskWrites(
  dir: string,
  flushInterval: string,
  windowSeconds: number,
): Promise<DiskResult> {
  const config = join(dir, `disk-${flushInterval}.toml`);
  writeFileSync(
    config,
    `[storage]\npath = "disk-${flushInterval}.db"\nflush_interval = "${flushInterval}"\n\n[log]\nlevel = "warn"\n\n[[sensors]]\nid = "gas0"\ndriver = "sim"\ninterval = "1s"\n`,
  );
  const child = spawn(process.execPath, [SENSORD, "--config", config], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error("could not start sensord");
  const exited = new Promise<number | null>((resolveExit) => child.on("exit", resolveExit));
  // Let start-up (migrations, first checkpoint) finish before the window opens.
  await new Promise((resolveWait) => setTimeout(resolveWait, 3000));
  const before = procIo(pid);
  const opened = performance.now();
  await new Promise((resolveWait) => setTimeout(resolveWait, windowSeconds * 1000));
  const after = procIo(pid);
  const seconds = (performance.now() - opened) / 1000;
  const rss = peakRss(pid);
  child.kill("SIGTERM");
  const code = await exited;
  if (code !== 0) throw new Error(`sensord (flush ${flushInterval}) exited with ${code}`);
  const readings = Math.round(seconds * READINGS_PER_SECOND);
  return {
    flushInterval,
    windowSeconds: seconds,
    readings,
    writeBytesPerReading: (after.writeBytes - before.writeBytes) / readings,
    wcharPerReading: (after.wchar - before.wchar) / readings,
    peakRssBytes: rss,
  };
}
