import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

const SENSORD_INGEST = resolve(import.meta.dirname, "../cloud/main.js");

export interface IngestHealth {
  readings: number;
  duplicates: number;
  batches: number;
}

/** A `sensord-ingest` child process (the built binary) for benchmarks, stopped by its PID. */
export class BenchIngest {
  readonly child: ChildProcess;
  readonly pid: number;
  private stdout = "";
  private stderr = "";
  private readonly exited: Promise<number | null>;

  private constructor(dbPath: string) {
    this.child = spawn(
      process.execPath,
      [SENSORD_INGEST, "--listen", "127.0.0.1:0", "--db", dbPath, "--log-level", "warn"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    if (this.child.pid === undefined) throw new Error("could not start sensord-ingest");
    this.pid = this.child.pid;
    this.child.stdout?.on("data", (chunk: Buffer) => {
      this.stdout += chunk.toString();
    });
    this.child.stderr?.on("data", (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    this.exited = new Promise((resolveExit) => this.child.on("exit", resolveExit));
  }

  /** Starts it and waits (at most `timeoutMs`) for `listening on URL`; returns it with that URL. */
  static async start(
    dbPath: string,
    timeoutMs = 10_000,
  ): Promise<{ ingest: BenchIngest; url: string }> {
    const ingest = new BenchIngest(dbPath);
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const match = /^listening on (http:\/\/\S+)\n/.exec(ingest.stdout);
      if (match?.[1] !== undefined) return { ingest, url: match[1] };
      if (ingest.child.exitCode !== null || performance.now() > deadline) {
        ingest.kill();
        throw new Error(`sensord-ingest did not start listening:\n${ingest.stderr}`);
      }
      await new Promise((resolveWait) => setTimeout(resolveWait, 10));
    }
  }

  get log(): string {
    return this.stderr;
  }

  async health(url: string): Promise<IngestHealth> {
    const response = await fetch(`${url}/healthz`);
    const body = (await response.json()) as IngestHealth;
    return { readings: body.readings, duplicates: body.duplicates, batches: body.batches };
  }

  /** CPU seconds (user + system) used so far, from /proc/<pid>/stat (clock ticks of 1/100 s). */
  cpuSeconds(): number {
    const stat = readFileSync(`/proc/${this.pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  }

  peakRssBytes(): number {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.pid}/status`, "utf8"));
    return Number(match?.[1] ?? 0) * 1024;
  }

  /** SIGTERM and wait up to `timeoutMs`, then SIGKILL (by PID). */
  async stop(timeoutMs = 15_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.kill(), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }
}
