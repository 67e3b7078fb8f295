import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { cleanEnv, ROOT } from "../support/processes.js";

export const SENSORD_INGEST = join(ROOT, "dist/cloud/main.js");

/** A running `sensord-ingest` (the built binary); stdout and stderr are collected. */
export class IngestProcess {
  readonly child: ChildProcess;
  stdout = "";
  stderr = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
    this.child = spawn(process.execPath, [SENSORD_INGEST, ...args], {
      cwd: options.cwd ?? ROOT,
      env: cleanEnv(options.env),
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout?.on("data", (chunk: Buffer) => {
      this.stdout += chunk.toString();
    });
    this.child.stderr?.on("data", (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    this.exited = new Promise((resolveExit) => {
      this.child.on("exit", (code, signal) => resolveExit({ code, signal }));
    });
    RUNNING.add(this);
    void this.exited.then(() => RUNNING.delete(this));
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error("sensord-ingest did not start");
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Waits for the `listening on URL` line (the first on stdout); returns the URL. */
  async ready(timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = /^listening on (http:\/\/\S+)\n/.exec(this.stdout);
      if (match?.[1] !== undefined) return match[1];
      if (!this.running) {
        throw new Error(`sensord-ingest exited before listening:\n${this.stdout}${this.stderr}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`sensord-ingest not listening after ${timeoutMs} ms:\n${this.stderr}`);
      }
      await new Promise((resolveWait) => setTimeout(resolveWait, 20));
    }
  }

  async stop(
    signal: NodeJS.Signals = "SIGTERM",
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) process.kill(this.pid, signal);
    return this.exited;
  }
}

const RUNNING = new Set<IngestProcess>();

/** SIGKILLs (by PID) every sensord-ingest a test started and did not stop; call from afterEach. */
export async function killAllIngest(): Promise<void> {
  const running = [...RUNNING];
  for (const ingest of running) if (ingest.running) process.kill(ingest.pid, "SIGKILL");
  await Promise.all(running.map((ingest) => ingest.exited));
}
