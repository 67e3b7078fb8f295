import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describeError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";

/**
 * No reading this build makes can be older than this: sensord did not exist
 * before it (the project started in November 2026). A Pi without a real-time
 * clock that boots at 1970 reads earlier, whatever else says; raise it with
 * releases, like systemd's own TIME_EPOCH.
 */
export const CLOCK_FLOOR_MS = Date.parse("2026-11-01T00:00:00Z");

/** systemd's answer over D-Bus: timedated reads the kernel's sync status (adjtimex), which Node cannot. */
export const TIMEDATECTL_COMMAND: readonly string[] = [
  "timedatectl",
  "show",
  "-p",
  "NTPSynchronized",
  "--value",
];

/** systemd-timesyncd creates it once it has synchronized the clock (and it lives in /run: gone at boot). */
export const TIMESYNCD_FILE = "/run/systemd/timesync/synchronized";

/** Once a minute: the state changes once per boot, and each check starts a process. */
export const CLOCK_CHECK_INTERVAL_MS = 60_000;

/** Wall-clock moves this much more than the monotonic clock: someone set the time; look again now. */
const JUMP_MS = 1000;

const COMMAND_TIMEOUT_MS = 2000;

export type ClockState = "synchronized" | "unsynchronized" | "unknown";

export interface ClockStatus {
  state: ClockState;
  /** How sensord knows, e.g. `timedatectl: NTPSynchronized=no`. */
  detail: string;
  /** When it last looked (epoch ms). */
  checkedAt: number;
}

export interface ClockWatchOptions {
  log: Logger;
  /** argv printing `yes` or `no`; null: none. Default: TIMEDATECTL_COMMAND (found on PATH). */
  command?: readonly string[] | null;
  /** A file whose existence means "synchronized", asked when the command has no answer; null: none. */
  syncedFile?: string | null;
  floorMs?: number;
  intervalMs?: number;
  now?: () => number;
  /** The monotonic clock, to notice the wall clock being set between checks. */
  monotonic?: () => number;
}

type CommandAnswer = { synchronized: boolean } | { error: string };

/**
 * The child must not inherit sensord's systemd notification socket: a systemd
 * tool that fails reports ERRNO= there, and with NotifyAccess=all systemd
 * would take it for sensord's own.
 */
function childEnv(): NodeJS.ProcessEnv {
  const { NOTIFY_SOCKET: _socket, WATCHDOG_PID: _pid, WATCHDOG_USEC: _usec, ...env } = process.env;
  return env;
}

/**
 * Whether the system clock can be trusted to stamp readings. A Pi has no
 * real-time clock: until NTP synchronizes it, it runs from the time of its
 * last shutdown (systemd-timesyncd's saved clock) or from 1970. Readings
 * stamped meanwhile are flagged `clock_unsynced`, so nothing downstream takes
 * their times for right.
 *
 * Cheap on purpose: the system is asked at start and then once a minute (or
 * at once when the wall clock jumps), never per reading; `unsyncedAt` is a
 * comparison. "Cannot tell" (no systemd: a container, a laptop) flags nothing,
 * and says so once.
 */
export class ClockWatch {
  private readonly command: readonly string[] | null;
  private readonly syncedFile: string | null;
  private readonly floorMs: number;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly monotonic: () => number;
  private current: ClockStatus;
  private timer: NodeJS.Timeout | null = null;
  private checking = false;
  private stopped = false;
  /** Wall minus monotonic at the last check: a change means the clock was set. */
  private offset = 0;
  private loggedState: ClockState | null = null;

  constructor(private readonly options: ClockWatchOptions) {
    this.command = options.command === undefined ? TIMEDATECTL_COMMAND : options.command;
    this.syncedFile = options.syncedFile === undefined ? TIMESYNCD_FILE : options.syncedFile;
    this.floorMs = options.floorMs ?? CLOCK_FLOOR_MS;
    this.intervalMs = options.intervalMs ?? CLOCK_CHECK_INTERVAL_MS;
    this.now = options.now ?? Date.now;
    this.monotonic = options.monotonic ?? (() => performance.now());
    this.current = { state: "unknown", detail: "not checked yet", checkedAt: 0 };
  }

  /**
   * Checks once before returning (the first readings come right after), then
   * every interval in the background.
   */
  start(): void {
    this.stopped = false;
    this.settle(this.runSync());
    this.timer = setInterval(() => void this.check(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Asks the system again (in the background); resolves once the answer is in. */
  async check(): Promise<void> {
    if (this.checking || this.stopped) return;
    this.checking = true;
    try {
      const answer = await this.runAsync();
      if (!this.stopped) this.settle(answer);
    } finally {
      this.checking = false;
    }
  }

  /**
   * True when a reading stamped `tsMs` by this clock must not be taken for
   * right: before the floor, or while the system says it is not synchronized.
   */
  unsyncedAt(tsMs: number): boolean {
    if (tsMs < this.floorMs) return true;
    if (Math.abs(this.wallMinusMonotonic() - this.offset) > JUMP_MS) {
      // Set by NTP (or by hand) since the last look: do not wait a minute to know.
      this.offset = this.wallMinusMonotonic();
      void this.check();
    }
    return this.current.state === "unsynchronized";
  }

  status(): ClockStatus {
    return { ...this.current };
  }

  private wallMinusMonotonic(): number {
    return this.now() - this.monotonic();
  }

  private settle(answer: CommandAnswer | null): void {
    const nowMs = this.now();
    this.offset = this.wallMinusMonotonic();
    this.current = { ...this.judge(answer, nowMs), checkedAt: nowMs };
    this.logChange();
  }

  private judge(answer: CommandAnswer | null, nowMs: number): Omit<ClockStatus, "checkedAt"> {
    if (nowMs < this.floorMs) {
      return {
        state: "unsynchronized",
        detail: `it reads ${new Date(nowMs).toISOString()}, before ${new Date(this.floorMs).toISOString().slice(0, 10)} (older than this sensord)`,
      };
    }
    const name = this.command?.[0] ?? "";
    if (answer !== null && "synchronized" in answer) {
      return {
        state: answer.synchronized ? "synchronized" : "unsynchronized",
        detail: `${name}: NTPSynchronized=${answer.synchronized ? "yes" : "no"}`,
      };
    }
    if (this.syncedFile !== null && existsSync(this.syncedFile)) {
      return { state: "synchronized", detail: `${this.syncedFile} exists` };
    }
    const asked = [
      answer === null ? null : `${name}: ${answer.error}`,
      this.syncedFile === null ? null : `no ${this.syncedFile}`,
    ].filter((part) => part !== null);
    return {
      state: "unknown",
      detail: asked.length === 0 ? "nothing to ask" : asked.join("; "),
    };
  }

  private logChange(): void {
    const { state, detail } = this.current;
    if (state === this.loggedState) return;
    const first = this.loggedState === null;
    this.loggedState = state;
    const log = this.options.log;
    if (state === "unsynchronized") {
      log.warn(
        `the system clock is not synchronized (${detail}): readings are flagged clock_unsynced until it is`,
      );
    } else if (state === "synchronized") {
      if (!first)
        log.info(
          `the system clock is synchronized now (${detail}); readings are no longer flagged`,
        );
    } else {
      log.info(
        `cannot tell whether the system clock is synchronized (${detail}); readings are not flagged`,
      );
    }
  }

  private runSync(): CommandAnswer | null {
    const command = this.command;
    if (command === null || command[0] === undefined) return null;
    try {
      const stdout = execFileSync(command[0], command.slice(1), {
        env: childEnv(),
        encoding: "utf8",
        timeout: COMMAND_TIMEOUT_MS,
        stdio: ["ignore", "pipe", "pipe"],
      });
      return parseAnswer(stdout);
    } catch (error) {
      return { error: commandError(error) };
    }
  }

  private runAsync(): Promise<CommandAnswer | null> {
    const command = this.command;
    if (command === null || command[0] === undefined) return Promise.resolve(null);
    return new Promise((resolve) => {
      execFile(
        command[0] ?? "",
        command.slice(1),
        { env: childEnv(), encoding: "utf8", timeout: COMMAND_TIMEOUT_MS },
        (error, stdout) => resolve(error ? { error: commandError(error) } : parseAnswer(stdout)),
      );
    });
  }
}

function parseAnswer(stdout: string): CommandAnswer {
  const text = stdout.trim();
  if (text === "yes") return { synchronized: true };
  if (text === "no") return { synchronized: false };
  return { error: `unexpected answer ${JSON.stringify(text.slice(0, 40))}` };
}

/** "not found", "exit code 1: System has not been booted with systemd", "timed out". */
function commandError(error: unknown): string {
  if (typeof error !== "object" || error === null) return describeError(error);
  const code = "code" in error ? error.code : undefined;
  if (code === "ENOENT") return "not installed";
  // execFileSync says ETIMEDOUT, execFile sets `killed`.
  if (code === "ETIMEDOUT" || ("killed" in error && error.killed === true)) {
    return `no answer within ${COMMAND_TIMEOUT_MS / 1000} s`;
  }
  const stderr = "stderr" in error ? String(error.stderr).trim().split("\n")[0] : "";
  if (typeof code === "number" || "status" in error) {
    const status = typeof code === "number" ? code : "status" in error ? error.status : "?";
    return `exit code ${String(status)}${stderr ? `: ${stderr}` : ""}`;
  }
  return describeError(error);
}
