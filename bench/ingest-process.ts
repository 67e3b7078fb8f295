import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

const SENSORD_INGEST = resolve(import.meta.dirname, "../cloud/main.js");
const RECEIVER = resolve(import.meta.dirname, "receiver.js");

export interface IngestHealth {
  readings: number;
  duplicates: number;
  batches: number;
}

/**
 * An upload endpoint in a child process of its own, for benchmarks, stopped
 * by its PID: the `sensord-ingest` binary, or the minimal receiver
 * (bench/receiver.ts). Both print `listening on URL` and answer /healthz.
 */
export class BenchServer {
  readonly child: ChildProcess;
  readonly pid: number;
  private stdout = "";
  private stderr = "";
  private readonly exited: Promise<number | null>;

  private constructor(args: string[]) {
    this.child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    if (this.child.pid === undefined) throw new Error(`could not start ${args[0]}`);
    this.pid = this.child.pid;
    this.child.stdout?.on("data", (chunk: Buffer) => {
      this.stdout += chunk.toString();
    });
    this.child.stderr?.on("data", (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    this.exited = new Promise((resolveExit) => this.child.on("exit", resolveExit));
  }

  /** sensord-ingest on a free port with its database at `dbPath`. */
  static ingest(dbPath: string): Promise<{ server: BenchServer; url: string }> {
    return BenchServer.start([
      SENSORD_INGEST,
      "--listen",
      "127.0.0.1:0",
      "--db",
      dbPath,
      "--log-level",
      "warn",
    ]);
  }

  /** The minimal receiver on `port` (0: a free one), timing the readings of `liveSensor`. */
  static receiver(port = 0, liveSensor = ""): Promise<{ server: BenchServer; url: string }> {
    return BenchServer.start([RECEIVER, String(port), liveSensor]);
  }

  /** Starts it and waits (at most `timeoutMs`) for `listening on URL`; returns it with that URL. */
  private static async start(
    args: string[],
    timeoutMs = 10_000,
  ): Promise<{ server: BenchServer; url: string }> {
    const server = new BenchServer(args);
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const match = /^listening on (http:\/\/\S+)\n/.exec(server.stdout);
      if (match?.[1] !== undefined) return { server, url: match[1] };
      if (server.child.exitCode !== null || performance.now() > deadline) {
        server.kill();
        throw new Error(`${args[0]} did not start listening:\n${server.stderr}`);
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
