import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

const SENSORD = resolve(import.meta.dirname, "../daemon/main.js");
const UNIT = resolve(import.meta.dirname, "../../systemd/sensord.service");

/**
 * The NODE_OPTIONS the systemd unit runs sensord with, so the figures are a
 * Pi's; BENCH_SENSORD_NODE_OPTIONS replaces them for paired trials of V8 settings.
 */
export function sensordNodeOptions(): string {
  const trial = process.env.BENCH_SENSORD_NODE_OPTIONS;
  if (trial !== undefined) return trial;
  const line = readFileSync(UNIT, "utf8")
    .split("\n")
    .find((text) => text.startsWith("Environment=NODE_OPTIONS="));
  return line?.slice("Environment=NODE_OPTIONS=".length).trim() ?? "";
}

/** A sensord child process for benchmarks, with its log lines and /proc figures. */
export class BenchDaemon {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Epoch ms just before the process was spawned: "from sensord's start" clocks begin here. */
  readonly spawnedAt: number;
  private log_ = "";
  private readonly exited: Promise<number | null>;

  constructor(configFile: string) {
    this.spawnedAt = Date.now();
    this.child = spawn(process.execPath, [SENSORD, "--config", configFile], {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, NODE_OPTIONS: sensordNodeOptions() },
    });
    if (this.child.pid === undefined) throw new Error("could not start sensord");
    this.pid = this.child.pid;
    this.child.stderr?.on("data", (chunk: Buffer) => {
      this.log_ += chunk.toString();
    });
    this.exited = new Promise((resolveExit) => this.child.on("exit", resolveExit));
  }

  get log(): string {
    return this.log_;
  }

  /** Waits for a log line matching `pattern`; throws if sensord exits or `timeoutMs` passes first. */
  async waitForLog(pattern: RegExp, timeoutMs = 120_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!pattern.test(this.log_)) {
      if (this.child.exitCode !== null) throw new Error(`sensord exited early:\n${this.log_}`);
      if (performance.now() > deadline) {
        throw new Error(`sensord logged nothing like ${pattern} in ${timeoutMs} ms:\n${this.log_}`);
      }
      await new Promise((resolveWait) => setTimeout(resolveWait, 2));
    }
  }

  /** SIGTERM (commit what is pending) and wait; throws unless it exits 0. */
  async stop(): Promise<void> {
    this.child.kill("SIGTERM");
    const code = await this.exited;
    if (code !== 0) throw new Error(`sensord exited with ${code}:\n${this.log_}`);
  }

  io(): { writeBytes: number; wchar: number } {
    const fields = new Map(
      readFileSync(`/proc/${this.pid}/io`, "utf8")
        .trim()
        .split("\n")
        .map((line) => {
          const [key = "", value = "0"] = line.split(":");
          return [key.trim(), Number(value.trim())] as const;
        }),
    );
    return { writeBytes: fields.get("write_bytes") ?? 0, wchar: fields.get("wchar") ?? 0 };
  }

  /** CPU seconds (user + system, every thread) since its start, from /proc/<pid>/stat (1/100 s ticks). */
  cpuSeconds(): number {
    const stat = readFileSync(`/proc/${this.pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces): utime is field 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  }

  /** SIGKILL by PID if it still runs (a failed bench must not leave it behind). */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }

  peakRssBytes(): number {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.pid}/status`, "utf8"));
    return Number(match?.[1] ?? 0) * 1024;
  }
}
