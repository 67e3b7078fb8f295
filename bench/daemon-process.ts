import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

const SENSORD = resolve(import.meta.dirname, "../daemon/main.js");

/** A sensord child process for benchmarks, with its log lines and /proc figures. */
export class BenchDaemon {
  readonly child: ChildProcess;
  readonly pid: number;
  private log = "";
  private readonly exited: Promise<number | null>;

  constructor(configFile: string) {
    this.child = spawn(process.execPath, [SENSORD, "--config", configFile], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    if (this.child.pid === undefined) throw new Error("could not start sensord");
    this.pid = this.child.pid;
    this.child.stderr?.on("data", (chunk: Buffer) => {
      this.log += chunk.toString();
    });
    this.exited = new Promise((resolveExit) => this.child.on("exit", resolveExit));
  }

  async waitForLog(pattern: RegExp): Promise<void> {
    while (!pattern.test(this.log)) {
      if (this.child.exitCode !== null) throw new Error(`sensord exited early:\n${this.log}`);
      await new Promise((resolveWait) => setTimeout(resolveWait, 2));
    }
  }

  /** SIGTERM (commit what is pending) and wait; throws unless it exits 0. */
  async stop(): Promise<void> {
    this.child.kill("SIGTERM");
    const code = await this.exited;
    if (code !== 0) throw new Error(`sensord exited with ${code}:\n${this.log}`);
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

  peakRssBytes(): number {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.pid}/status`, "utf8"));
    return Number(match?.[1] ?? 0) * 1024;
  }
}
