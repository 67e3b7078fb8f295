import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startBroker } from "../demo/broker.js";
import { BenchDaemon } from "./daemon-process.js";
import { printReport, type SectionReport } from "./report.js";

/** Issue 14's "after 20 s" figure: long enough for the first uploads, relays and flushes. */
const SETTLE_MS = 20_000;

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

const CONFIGURATIONS: ReadonlyArray<{ name: string; sections: Sections }> = [
  { name: "sensor only", sections: { sync: false, mqtt: false, http: false, control: false } },
  { name: "+ [sync]", sections: { sync: true, mqtt: false, http: false, control: false } },
  { name: "+ [mqtt]", sections: { sync: false, mqtt: true, http: false, control: false } },
  { name: "+ [http]", sections: { sync: false, mqtt: false, http: true, control: false } },
  {
    name: "+ [http] scraped",
    sections: { sync: false, mqtt: false, http: true, control: false, scraped: true },
  },
  { name: "+ [control]", sections: { sync: false, mqtt: false, http: false, control: true } },
  {
    name: "everything",
    sections: { sync: true, mqtt: true, http: true, control: true, scraped: true },
  },
];

export interface MemoryRow {
  name: string;
  /** VmRSS after SETTLE_MS. */
  rssBytes: number;
  /** VmHWM: the peak RSS up to then. */
  peakBytes: number;
}

export interface MemoryResult {
  settleMs: number;
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

function procStatusBytes(pid: number, field: "VmRSS" | "VmHWM"): number {
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
 * one 20 s wait for all keeps the run short), each measured from /proc.
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
    await new Promise((resolveWait) => setTimeout(resolveWait, SETTLE_MS));
    const rows = CONFIGURATIONS.map((configuration, index) => {
      const pid = daemons[index]?.pid ?? 0;
      return {
        name: configuration.name,
        rssBytes: procStatusBytes(pid, "VmRSS"),
        peakBytes: procStatusBytes(pid, "VmHWM"),
      };
    });
    clearInterval(scraper);
    await Promise.all(daemons.map((daemon) => daemon.stop()));
    return { settleMs: SETTLE_MS, rows };
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

/** The `## Memory per configuration` table of bench/README.md. */
export function memoryReport(result: MemoryResult): SectionReport {
  const after = `after ${result.settleMs / 1000} s`;
  const rows = result.rows.map((row) => [
    row.name,
    (row.rssBytes / MIB).toFixed(1),
    (row.peakBytes / MIB).toFixed(1),
  ]);
  return {
    blocks: [
      {
        name: "memory",
        tables: [{ header: ["configuration", `RSS ${after} (MiB)`, "peak (MiB)"], rows }],
      },
    ],
    notes: [],
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
