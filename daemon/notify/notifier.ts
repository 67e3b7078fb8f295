import { spawn } from "node:child_process";
import type { Logger } from "../../core/logger.js";

/** What sensord tells its service manager (sd_notify(3)). */
export interface Notifier {
  /** False when no service manager listens (NOTIFY_SOCKET unset): every call is a no-op. */
  readonly enabled: boolean;
  ready(): void;
  /** One line for `systemctl status`. */
  status(text: string): void;
  watchdog(): void;
  stopping(): void;
}

export const NOOP_NOTIFIER: Notifier = {
  enabled: false,
  ready: () => {},
  status: () => {},
  watchdog: () => {},
  stopping: () => {},
};

/** A systemd-notify that has not returned by then is killed; its message is lost, the next tick retries. */
const CHILD_DEADLINE_MS = 10_000;
const STDERR_KEEP = 500;

export interface NotifierOptions {
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** The pid systemd should attribute messages to: sensord's own. */
  pid: number;
  /** The sender; a test points it elsewhere to simulate a missing binary. */
  command?: string;
}

export function createNotifier(options: NotifierOptions): Notifier {
  const socket = options.env.NOTIFY_SOCKET;
  if (socket === undefined || socket === "") return NOOP_NOTIFIER;
  return new SystemdNotify(options);
}

/**
 * Sends through `systemd-notify`, because Node has no AF_UNIX datagram
 * sockets and a native module would be one more thing to compile on every Pi.
 * The classic race (systemd-notify exits before PID 1 reads its message, so
 * PID 1 cannot tell which service it came from) is gone since systemd 246:
 * systemd-notify waits for PID 1 to process the message (BARRIER=1), so it is
 * still alive, in our cgroup, when its credentials are checked. Needs
 * NotifyAccess=all. `--pid` adds MAINPID=<sensord> so the service's main
 * process stays sensord even when ExecStart= goes through a wrapper.
 *
 * Periodic messages (STATUS, WATCHDOG) are coalesced: one systemd-notify at a
 * time, later values replacing pending ones. READY and STOPPING go out at once;
 * a READY that failed is repeated with the next message.
 */
class SystemdNotify implements Notifier {
  readonly enabled = true;
  private readonly pending = new Map<string, string>();
  private inFlight = 0;
  private scheduled = false;
  private lastFailure: string | null = null;

  constructor(private readonly options: NotifierOptions) {}

  ready(): void {
    this.enqueue("READY", "1", true);
  }

  status(text: string): void {
    // One datagram line per variable: a newline would start a bogus variable.
    this.enqueue("STATUS", text.replace(/[\r\n]+/g, " "), false);
  }

  watchdog(): void {
    this.enqueue("WATCHDOG", "1", false);
  }

  stopping(): void {
    this.enqueue("STOPPING", "1", true);
  }

  private enqueue(key: string, value: string, urgent: boolean): void {
    this.pending.set(key, value);
    if (urgent) {
      this.send();
    } else if (!this.scheduled) {
      // Calls made in the same tick (status, then watchdog) share one process.
      this.scheduled = true;
      queueMicrotask(() => {
        this.scheduled = false;
        if (this.inFlight === 0) this.send();
      });
    }
  }

  private send(): void {
    if (this.pending.size === 0) return;
    const fields = [...this.pending].map(([key, value]) => `${key}=${value}`);
    this.pending.clear();
    this.inFlight++;
    let stderr = "";
    let settled = false;
    const finish = (failure: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      this.inFlight--;
      this.report(failure);
      if (failure === null) {
        if (this.inFlight === 0) this.send();
      } else if (fields.includes("READY=1")) {
        // Without READY systemd would time the start out: it rides along with the
        // next tick's message. Not resent at once, or a dead socket means a spawn storm.
        this.pending.set("READY", "1");
      }
    };
    const child = spawn(
      this.options.command ?? "systemd-notify",
      [`--pid=${this.options.pid}`, ...fields],
      { env: this.options.env, stdio: ["ignore", "ignore", "pipe"] },
    );
    const deadline = setTimeout(() => {
      child.kill("SIGKILL");
      finish(`systemd-notify did not return within ${CHILD_DEADLINE_MS / 1000} s`);
    }, CHILD_DEADLINE_MS);
    deadline.unref();
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-STDERR_KEEP);
    });
    child.on("error", (error: NodeJS.ErrnoException) => {
      finish(
        error.code === "ENOENT"
          ? `${this.options.command ?? "systemd-notify"} not found; it comes with systemd (apt-get install systemd), or remove Type=notify and WatchdogSec= from the unit`
          : `cannot run systemd-notify: ${error.message}`,
      );
    });
    child.on("close", (code, signal) => {
      if (code === 0) finish(null);
      else finish(`systemd-notify failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`);
    });
  }

  /** Logs once per change, so a broken notify socket writes two lines, not one per tick. */
  private report(failure: string | null): void {
    if (failure === this.lastFailure) return;
    if (failure !== null) {
      this.options.log.error(`cannot notify systemd (watchdog pings are not arriving): ${failure}`);
    } else {
      this.options.log.info("notifying systemd works again");
    }
    this.lastFailure = failure;
  }
}
