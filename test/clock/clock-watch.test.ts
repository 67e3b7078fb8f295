import { chmodSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  CLOCK_FLOOR_MS,
  ClockWatch,
  type ClockWatchOptions,
} from "../../daemon/clock/clock-watch.js";
import { memoryLogger, tempDir } from "../store/helpers.js";
import { waitUntil } from "../support/processes.js";

/**
 * The system is driven through what ClockWatch really reads: a command (a
 * script here, printing what its answer file holds and counting its runs)
 * and a file whose existence means "synchronized".
 */
describe("ClockWatch", () => {
  let temp: ReturnType<typeof tempDir>;
  let watch: ClockWatch | null;
  const log = memoryLogger();
  let answer: string;
  let runs: string;
  let script: string;

  beforeEach(() => {
    temp = tempDir();
    watch = null;
    log.lines.length = 0;
    answer = temp.file("answer");
    runs = temp.file("runs");
    script = temp.file("ntp-synchronized");
    writeFileSync(runs, "");
    writeFileSync(
      script,
      `#!/bin/sh\necho run >> "${runs}"\nif [ -f "${answer}" ]; then cat "${answer}"; else echo "no systemd here" >&2; exit 1; fi\n`,
    );
    chmodSync(script, 0o755);
  });
  afterEach(() => {
    watch?.stop();
    temp.cleanup();
  });

  const runCount = () => readFileSync(runs, "utf8").split("\n").filter(Boolean).length;

  function start(options: Partial<ClockWatchOptions> = {}): ClockWatch {
    watch = new ClockWatch({
      log,
      command: [script],
      syncedFile: temp.file("synchronized"),
      intervalMs: 60_000,
      ...options,
    });
    watch.start();
    return watch;
  }

  it("flags readings while the system says no, and stops once it says yes (one log line per change)", async () => {
    writeFileSync(answer, "no\n");
    const clock = start({ intervalMs: 50 });
    expect(clock.status()).toMatchObject({
      state: "unsynchronized",
      detail: `${script}: NTPSynchronized=no`,
    });
    expect(clock.unsyncedAt(Date.now())).toBe(true);
    writeFileSync(answer, "yes\n");
    await waitUntil(() => clock.status().state === "synchronized", 5000, "synchronized");
    expect(clock.unsyncedAt(Date.now())).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(log.lines.map((line) => [line.level, line.message])).toEqual([
      [
        "warn",
        `the system clock is not synchronized (${script}: NTPSynchronized=no): readings are flagged clock_unsynced until it is`,
      ],
      [
        "info",
        `the system clock is synchronized now (${script}: NTPSynchronized=yes); readings are no longer flagged`,
      ],
    ]);
  });

  it("a time before the build's floor is unsynchronized whatever the system says", () => {
    writeFileSync(answer, "yes\n");
    const clock = start({ now: () => 5000 });
    expect(clock.status().state).toBe("unsynchronized");
    expect(clock.status().detail).toContain("1970-01-01T00:00:05.000Z, before 2026-11-01");
    expect(clock.unsyncedAt(CLOCK_FLOOR_MS - 1)).toBe(true);
  });

  it("without an answer from the command, the timesyncd file decides; without either it cannot tell and flags nothing", async () => {
    const before = Date.now();
    const clock = start({ intervalMs: 50 });
    const { checkedAt, ...status } = clock.status();
    expect(status).toEqual({
      state: "unknown",
      detail: `${script}: exit code 1: no systemd here; no ${temp.file("synchronized")}`,
    });
    // The first check runs at start.
    expect(checkedAt).toBeGreaterThanOrEqual(before);
    expect(checkedAt).toBeLessThanOrEqual(Date.now());
    expect(clock.unsyncedAt(Date.now())).toBe(false);
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]?.message).toContain("cannot tell whether the system clock is synchronized");
    writeFileSync(temp.file("synchronized"), "");
    await waitUntil(() => clock.status().state === "synchronized", 5000, "file seen");
    expect(clock.status().detail).toBe(`${temp.file("synchronized")} exists`);
    rmSync(temp.file("synchronized"));
  });

  it("does not hand sensord's systemd notification socket to the command (it would report ERRNO= as sensord)", () => {
    const seen = temp.file("seen");
    const probe = temp.file("probe");
    writeFileSync(
      probe,
      `#!/bin/sh\necho "\${NOTIFY_SOCKET:-none} \${WATCHDOG_USEC:-none}" > "${seen}"\necho yes\n`,
    );
    chmodSync(probe, 0o755);
    const saved = { socket: process.env.NOTIFY_SOCKET, usec: process.env.WATCHDOG_USEC };
    process.env.NOTIFY_SOCKET = temp.file("notify.sock");
    process.env.WATCHDOG_USEC = "30000000";
    try {
      start({ command: [probe] });
    } finally {
      if (saved.socket === undefined) delete process.env.NOTIFY_SOCKET;
      else process.env.NOTIFY_SOCKET = saved.socket;
      if (saved.usec === undefined) delete process.env.WATCHDOG_USEC;
      else process.env.WATCHDOG_USEC = saved.usec;
    }
    expect(readFileSync(seen, "utf8")).toBe("none none\n");
  });

  it("a missing command reads as 'not installed'", () => {
    const clock = start({ command: [temp.file("no-such-command")] });
    expect(clock.status().detail).toContain("no-such-command: not installed");
  });

  it("is cheap: asks once at start, then per interval, never per reading; at once when the clock is set", async () => {
    writeFileSync(answer, "no\n");
    let wall = Date.now();
    const clock = start({ now: () => wall, monotonic: () => 0 });
    for (let i = 0; i < 10_000; i++) clock.unsyncedAt(wall);
    expect(runCount()).toBe(1);
    // NTP sets the clock: the wall clock moves an hour while the monotonic one does not.
    writeFileSync(answer, "yes\n");
    wall += 3_600_000;
    expect(clock.unsyncedAt(wall)).toBe(true);
    await waitUntil(() => clock.status().state === "synchronized", 5000, "re-checked");
    expect(runCount()).toBe(2);
    expect(clock.unsyncedAt(wall)).toBe(false);
  });
});
