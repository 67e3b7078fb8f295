import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";

/**
 * A virtual null-modem cable: `socat -d -d pty,raw,echo=0,link=<dir>/dev
 * pty,raw,echo=0,link=<dir>/emu`. The driver opens `dev`, a module emulator
 * opens `emu`. Killing socat with SIGKILL makes both ptys vanish at once, like
 * pulling a USB adapter; restart() brings the same link names back on fresh
 * ptys, like plugging it in again.
 */
export class SocatPair {
  readonly devPath: string;
  readonly emuPath: string;
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private stderr = "";

  private constructor(readonly dir: string) {
    this.devPath = join(dir, "dev");
    this.emuPath = join(dir, "emu");
  }

  static async start(dir: string): Promise<SocatPair> {
    const pair = new SocatPair(dir);
    RUNNING.add(pair);
    await pair.spawn();
    return pair;
  }

  get pid(): number {
    const pid = this.child?.pid;
    if (pid === undefined) throw new Error("socat is not running");
    return pid;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  private async spawn(): Promise<void> {
    // socat would not replace links left behind by an earlier run.
    this.removeLinks();
    this.stderr = "";
    const child = spawn(
      "socat",
      ["-d", "-d", `pty,raw,echo=0,link=${this.devPath}`, `pty,raw,echo=0,link=${this.emuPath}`],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    this.child = child;
    child.stderr?.on("data", (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    this.exited = new Promise((resolve) => child.on("exit", () => resolve()));
    const deadline = Date.now() + 5000;
    // existsSync follows the links, so this waits for the ptys, not just the names.
    while (
      !(existsSync(this.devPath) && existsSync(this.emuPath)) ||
      !this.stderr.includes("starting data transfer loop")
    ) {
      if (!this.running) throw new Error(`socat exited early:\n${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`socat did not come up:\n${this.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /**
   * SIGKILL by PID: the ptys disappear without socat tidying anything up (an unplug).
   * The dangling links are then removed, as udev removes /dev/ttyUSB0 on unplug:
   * left in place, a link could resolve to an unrelated pty that reuses the number.
   */
  async kill(): Promise<void> {
    if (!this.running) return;
    process.kill(this.pid, "SIGKILL");
    await this.exited;
    this.removeLinks();
  }

  private removeLinks(): void {
    rmSync(this.devPath, { force: true });
    rmSync(this.emuPath, { force: true });
  }

  /** The same link names on fresh ptys (the adapter plugged back in). */
  async restart(): Promise<void> {
    await this.kill();
    await this.spawn();
  }

  async stop(): Promise<void> {
    if (this.running) {
      process.kill(this.pid, "SIGTERM");
      await this.exited;
    }
    RUNNING.delete(this);
  }
}

const RUNNING = new Set<SocatPair>();

/** Stops (by PID) every socat a test started; call from afterEach. */
export async function stopAllSocat(): Promise<void> {
  await Promise.all([...RUNNING].map((pair) => pair.stop()));
}
