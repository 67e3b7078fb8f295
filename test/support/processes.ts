import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dirname, "../..");
export const SENSORD = join(ROOT, "dist/daemon/main.js");
export const SENSORCTL = join(ROOT, "dist/cli/main.js");

/** Environment for child processes: no inherited config path or journald stream unless a test sets one. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.SENSORD_CONFIG;
  delete env.JOURNAL_STREAM;
  return { ...env, ...extra };
}

export function makeTempDir(prefix = "sensord-test-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function sensorctl(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): RunResult {
  const result = spawnSync(process.execPath, [SENSORCTL, ...args], {
    cwd: options.cwd ?? ROOT,
    env: options.env ?? cleanEnv(),
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

export function sensordSync(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): RunResult {
  const result = spawnSync(process.execPath, [SENSORD, ...args], {
    cwd: options.cwd ?? ROOT,
    env: options.env ?? cleanEnv(),
    encoding: "utf8",
    timeout: options.timeoutMs ?? 15_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Parses `--format json` output: one object per line. */
export function jsonLines<T>(text: string): T[] {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as T);
}

/** A running sensord: its stderr is collected so tests can wait for log lines. */
export class DaemonProcess {
  readonly child: ChildProcess;
  private output = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
    this.child = spawn(process.execPath, [SENSORD, ...args], {
      cwd: options.cwd ?? ROOT,
      env: options.env ?? cleanEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout?.on("data", (chunk: Buffer) => {
      this.output += chunk.toString();
    });
    this.child.stderr?.on("data", (chunk: Buffer) => {
      this.output += chunk.toString();
    });
    this.exited = new Promise((resolveExit) => {
      this.child.on("exit", (code, signal) => resolveExit({ code, signal }));
    });
    RUNNING.add(this);
    void this.exited.then(() => RUNNING.delete(this));
  }

  get log(): string {
    return this.output;
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error("sensord did not start");
    return this.child.pid;
  }

  async waitForLog(pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = this.output.match(pattern);
      if (match) return match;
      if (this.child.exitCode !== null)
        throw new Error(
          `sensord exited (${this.child.exitCode}) before ${pattern}:\n${this.output}`,
        );
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${pattern}; log so far:\n${this.output}`);
      await new Promise((resolveWait) => setTimeout(resolveWait, 20));
    }
  }

  signal(signal: NodeJS.Signals): void {
    process.kill(this.pid, signal);
  }

  async stop(
    signal: NodeJS.Signals = "SIGTERM",
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.signal(signal);
    return this.exited;
  }
}

const RUNNING = new Set<DaemonProcess>();

/** Kills (by PID) every sensord a test started and did not stop; call from afterEach. */
export async function killAllDaemons(): Promise<void> {
  const running = [...RUNNING];
  for (const daemon of running) {
    if (daemon.child.exitCode === null && daemon.child.signalCode === null)
      daemon.signal("SIGKILL");
  }
  await Promise.all(running.map((daemon) => daemon.exited));
}

export async function waitUntil(
  condition: () => boolean,
  timeoutMs = 10_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolveWait) => setTimeout(resolveWait, 25));
  }
}
