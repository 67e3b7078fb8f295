import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startBroker } from "../demo/broker.js";
import { BenchDaemon } from "./daemon-process.js";
import { printReport, type SectionReport } from "./report.js";

/**
 * The goal is measured after 10 minutes at 1 Hz; MEMORY_WINDOW_S=60 (seconds)
 * gives a quick run with the same configurations.
 */
function windowMs(): number {
  const seconds = Number(process.env.MEMORY_WINDOW_S ?? 600);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new Error(
      `MEMORY_WINDOW_S must be a number of seconds, got ${process.env.MEMORY_WINDOW_S}`,
    );
  }
  return seconds * 1000;
}

/** How often VmRSS is read; "steady" is the median of the readings in the window's last quarter. */
const SAMPLE_MS = 5000;

const MIB = 1024 * 1024;

/** The sections a configuration turns on, besides its one simulated sensor. */
interface Sections {
  sync: boolean;
  mqtt: boolean;
  http: boolean;
  control: boolean;
  /** GET /metrics every SCRAPE_MS, as Prometheus would: prom-client loads at the first scrape. */
  scraped?: boolean;
}

const SCRAPE_MS = 5000;

const NONE: Sections = { sync: false, mqtt: false, http: false, control: false };
const EVERYTHING: Sections = { sync: true, mqtt: true, http: true, control: true, scraped: true };

/** The full configuration (a sensor with every section), each section off in turn, and each alone. */
const CONFIGURATIONS: ReadonlyArray<{ name: string; sections: Sections }> = [
  { name: "everything", sections: EVERYTHING },
  { name: "- [sync]", sections: { ...EVERYTHING, sync: false } },
  { name: "- [mqtt]", sections: { ...EVERYTHING, mqtt: false } },
  { name: "- [http]", sections: { ...EVERYTHING, http: false, scraped: false } },
  { name: "- [control]", sections: { ...EVERYTHING, control: false } },
  { name: "sensor only", sections: NONE },
  { name: "+ [sync]", sections: { ...NONE, sync: true } },
  { name: "+ [mqtt]", sections: { ...NONE, mqtt: true } },
  { name: "+ [http] scraped", sections: { ...NONE, http: true, scraped: true } },
  { name: "+ [control]", sections: { ...NONE, control: true } },
];

export interface MemoryRow {
  name: string;
  /** Median VmRSS over the window's last quarter. */
  steadyBytes: number;
  /**
   * The part of it no other process shares and the kernel cannot drop
   * (RssAnon: V8 heaps, malloc, SQLite's cache), median over the same samples.
   */
  anonBytes: number;
  /**
   * The part that is pages of files (RssFile: mostly the node binary's code
   * and read-only data, then shared libraries): clean, shared with every
   * other node process, and dropped under memory pressure.
   */
  fileBytes: number;
  /** VmHWM: the peak RSS since start. */
  peakBytes: number;
  /** User + system CPU over the window per second, i.e. per reading at 1 Hz. */
  cpuMsPerReading: number;
}

export interface MemoryResult {
  windowMs: number;
  rows: MemoryRow[];
}

function configText(
  dir: string,
  sections: Sections,
  endpoints: Endpoints,
  httpPort: number,
): string {
  const lines = [
    "[device]",
    'id = "bench-pi"',
    "[storage]",
    `path = ${JSON.stringify(join(dir, "sensord.db"))}`,
    'flush_interval = "1s"',
    "[[sensors]]",
    'id = "gas0"',
    'driver = "sim"',
    'interval = "1s"',
    "[control]",
    // A short socket path: Unix socket paths are limited to ~107 bytes.
    `socket = ${JSON.stringify(sections.control ? join(dir, "s.sock") : "")}`,
    "[http]",
    `listen = ${JSON.stringify(sections.http ? `127.0.0.1:${httpPort}` : "")}`,
  ];
  if (sections.sync) {
    lines.push("[sync]", `endpoint = ${JSON.stringify(`${endpoints.receiver}/ingest`)}`);
    lines.push('interval = "5s"');
  }
  if (sections.mqtt) {
    lines.push("[mqtt]", `url = ${JSON.stringify(endpoints.broker)}`, 'topic = "pi/1"');
  }
  return `${lines.join("\n")}\n`;
}

interface Endpoints {
  receiver: string;
  broker: string;
}

/** utime + stime of the process in ms (clock ticks are 10 ms on Linux). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function procStatusBytes(pid: number, field: "VmRSS" | "VmHWM" | "RssAnon" | "RssFile"): number {
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(
    readFileSync(`/proc/${pid}/status`, "utf8"),
  );
  return Number(match?.[1] ?? 0) * 1024;
}

/** A port free now: the scraper must know where sensord listens before it logs it. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolveListen) => server.listen(0, "127.0.0.1", resolveListen));
  const address = server.address();
  await new Promise((resolveClose) => server.close(resolveClose));
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return address.port;
}

/** bench/receiver.ts as its own process, so its memory is not the bench's or sensord's. */
async function startReceiver(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [resolve(import.meta.dirname, "receiver.js")], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolveUrl, reject) => {
    let out = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1] !== undefined) resolveUrl(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`receiver exited with ${code}`)));
  });
  return { url, child };
}

/**
 * One real sensord per configuration, all at once (memory is per process, and
 * one wait for all keeps the run short), each measured from /proc.
 */
export async function benchMemory(dir: string): Promise<MemoryResult> {
  const receiver = await startReceiver();
  const broker = await startBroker(0);
  const daemons: BenchDaemon[] = [];
  const scrapes: string[] = [];
  const scrape = () => {
    for (const url of scrapes) {
      fetch(url).then(
        (response) => response.text(),
        (error: unknown) => console.error(`scrape of ${url} failed: ${String(error)}`),
      );
    }
  };
  let scraper: NodeJS.Timeout | undefined;
  try {
    const endpoints = { receiver: receiver.url, broker: broker.url };
    for (const [index, configuration] of CONFIGURATIONS.entries()) {
      const home = join(dir, `c${index}`);
      mkdirSync(home, { recursive: true });
      const file = join(home, "sensord.toml");
      const port = await freePort();
      writeFileSync(file, configText(home, configuration.sections, endpoints, port));
      if (configuration.sections.scraped === true) scrapes.push(`http://127.0.0.1:${port}/metrics`);
      daemons.push(new BenchDaemon(file));
    }
    await Promise.all(daemons.map((daemon) => daemon.waitForLog(/sensord started/)));
    // The HTTP server starts after "sensord started"; the first scrape waits a moment for it.
    scraper = setInterval(scrape, SCRAPE_MS);
    const window = windowMs();
    const pids = daemons.map((daemon) => daemon.pid);
    const cpuAtStart = pids.map(cpuMs);
    const samples: Array<Array<{ rss: number; anon: number; file: number }>> = pids.map(() => []);
    const startedAt = Date.now();
    while (Date.now() - startedAt < window) {
      await new Promise((resolveWait) =>
        setTimeout(resolveWait, Math.min(SAMPLE_MS, window - (Date.now() - startedAt))),
      );
      if (Date.now() - startedAt < window * 0.75) continue;
      for (const [index, pid] of pids.entries()) {
        samples[index]?.push({
          rss: procStatusBytes(pid, "VmRSS"),
          anon: procStatusBytes(pid, "RssAnon"),
          file: procStatusBytes(pid, "RssFile"),
        });
      }
    }
    const rows = CONFIGURATIONS.map((configuration, index) => {
      const pid = pids[index] ?? 0;
      const taken = samples[index] ?? [];
      return {
        name: configuration.name,
        steadyBytes: median(taken.map((sample) => sample.rss)),
        anonBytes: median(taken.map((sample) => sample.anon)),
        fileBytes: median(taken.map((sample) => sample.file)),
        peakBytes: procStatusBytes(pid, "VmHWM"),
        cpuMsPerReading: (cpuMs(pid) - (cpuAtStart[index] ?? 0)) / (window / 1000),
      };
    });
    clearInterval(scraper);
    await Promise.all(daemons.map((daemon) => daemon.stop()));
    return { windowMs: window, rows };
  } finally {
    clearInterval(scraper);
    for (const daemon of daemons) {
      if (daemon.child.exitCode === null && daemon.child.signalCode === null) {
        process.kill(daemon.pid, "SIGKILL");
      }
    }
    const receiverPid = receiver.child.pid;
    if (receiverPid !== undefined && receiver.child.exitCode === null) {
      process.kill(receiverPid, "SIGTERM");
    }
    await broker.close();
  }
}

/** Steady RSS a Pi Zero can spare for sensord with every section on. */
const STEADY_GOAL_MIB = 60;

/** The `## Memory per configuration` table of bench/README.md. */
export function memoryReport(result: MemoryResult): SectionReport {
  const rows = result.rows.map((row) => [
    row.name,
    (row.steadyBytes / MIB).toFixed(1),
    (row.anonBytes / MIB).toFixed(1),
    (row.fileBytes / MIB).toFixed(1),
    (row.peakBytes / MIB).toFixed(1),
    row.cpuMsPerReading.toFixed(2),
  ]);
  return {
    blocks: [
      {
        name: "memory",
        tables: [
          {
            header: [
              "configuration",
              `steady RSS over ${result.windowMs / 1000} s at 1 Hz (MiB; goal for everything: <= ${STEADY_GOAL_MIB})`,
              "of which anonymous",
              "of which file pages",
              "peak (MiB)",
              "CPU ms per 1 Hz sample",
            ],
            rows,
          },
        ],
      },
    ],
    notes: [
      "steady: the median RSS of the window's last quarter, and its anonymous (RssAnon) and file-backed (RssFile) parts; peak: VmHWM; one sim sensor (4 gases) sampled at 1 Hz; sensord runs with the systemd unit's NODE_OPTIONS",
    ],
  };
}

if (process.argv[1]?.endsWith("memory.js")) {
  const dir = mkdtempSync(join(tmpdir(), "sensord-memory-"));
  try {
    printReport(memoryReport(await benchMemory(dir)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
