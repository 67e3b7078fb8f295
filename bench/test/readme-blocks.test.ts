import { spawnSync } from "node:child_process";
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanEnv, makeTempDir, ROOT } from "../../test/support/processes.js";
import { type DashboardBench, dashboardReport } from "../dashboard.js";
import { type DiskResult, diskWritesReport } from "../disk-writes.js";
import { driversReport } from "../drivers.js";
import { type FleetLoadResult, type FleetRunFigures, fleetLoadReport } from "../fleet-load.js";
import { type IngestResult, ingestReport } from "../ingest.js";
import { memoryReport } from "../memory.js";
import {
  blockBody,
  findBlocks,
  ReadmeBlockError,
  renderBlockBody,
  renderTable,
  replaceBlock,
  type SectionReport,
  type Stamp,
} from "../report.js";
import { type BenchSection, benchCommand, runSections, SECTIONS, selectSections } from "../run.js";
import { type DrainFigures, type SyncBenchResult, syncReport } from "../sync.js";

/**
 * bench/README.md's generated blocks held to bench/run.ts: every block has a
 * section that writes it and every section its blocks; a block holds what the
 * renderer writes (stamp, then tables of the same rows); a run rewrites only
 * between the markers; tables outside them are marked hand-written.
 */
const README = join(ROOT, "bench/README.md");
const readme = readFileSync(README, "utf8");
const temp = makeTempDir("sensord-readme-blocks-");
afterAll(() => temp.cleanup());

const MIB = 1024 * 1024;
const STAMP: Stamp = {
  command: "BENCH_LINES=1000 npm run bench -- ingest",
  at: new Date(Date.UTC(2026, 11, 4, 18, 15, 42)),
  machine: { cores: 2, cpuModel: "AMD EPYC", node: "v20.20.2" },
  load: { seconds: 14.4, othersCpuSeconds: 0.34 },
};

const INGEST: IngestResult = {
  readings: 1_000_000,
  seconds: 2.846,
  readingsPerSecond: 351_336.2,
  tailSeconds: 0.0641,
  alerts: 1156,
  peakRssBytes: 122.8 * MIB,
  writeBytesPerReading: 63.24,
  bare: { seconds: 0.9257, rowsPerSecond: 1_080_260.4 },
};

const disk = (flushInterval: string, spikeEvery: string, bytes: number): DiskResult => ({
  flushInterval,
  spikeEvery,
  windowSeconds: 120.01,
  readings: 480,
  writeBytesPerReading: bytes,
  wcharPerReading: bytes * 0.75,
  peakRssBytes: 97.4 * MIB,
});
const DISK = [
  disk("1s", "100d", 444.2),
  disk("1s", "20s", 555),
  disk("30s", "100d", 145),
  disk("30s", "20s", 324),
];

const page = { pageFiles: 12, pageBytes: 200_088, pageGzipBytes: 61_158 };
const DASHBOARD: DashboardBench = {
  readings: 2_419_200,
  generateSeconds: 5.49,
  weekQueryMs: 321.2,
  weekHttpMs: 308.4,
  weekHttpBytes: 169_321,
  hourHttpMs: 21.7,
  ...page,
  device: {
    readings: 2_419_200,
    generateSeconds: 2.71,
    weekFirstQueryMs: 1150.4,
    weekQueryMs: 912,
    weekHttpMs: 908,
    weekHttpBytes: 169_001,
    hourHttpMs: 16.2,
    pageFiles: 11,
    pageBytes: 197_074,
    pageGzipBytes: 59_932,
  },
};

const memoryRow = (name: string, steady: number, peak: number, cpuMsPerReading: number) => ({
  name,
  steadyBytes: steady * MIB,
  anonBytes: (steady - 50) * MIB,
  fileBytes: 50 * MIB,
  peakBytes: peak * MIB,
  cpuMsPerReading,
});
const MEMORY = {
  windowMs: 600_000,
  rows: [
    memoryRow("everything", 94.2, 133.0, 6.05),
    memoryRow("- [sync]", 81.1, 89.0, 5.23),
    memoryRow("- [mqtt]", 82.9, 116.2, 5.73),
    memoryRow("- [http]", 90.6, 133.2, 1.75),
    memoryRow("- [control]", 95.7, 134.4, 6.27),
    memoryRow("sensor only", 65.2, 68.9, 0.73),
    memoryRow("+ [sync]", 78.5, 116.6, 1.52),
    memoryRow("+ [mqtt]", 78.0, 88.2, 0.97),
    memoryRow("+ [http] scraped", 68.8, 72.5, 4.98),
    memoryRow("+ [control]", 65.9, 68.8, 0.73),
  ],
};

const PARSER = {
  frames: 1_000_000,
  framesPerSecond: 3_234_338,
  megabytesPerSecond: 27.6,
  rejectedBytes: 70_000,
};
const CPU = [
  { driver: "grove-mics6814", samples: 20, cpuMicrosPerSample: 958.4, coreShare: 0.00096 },
  { driver: "grove-gm", samples: 20, cpuMicrosPerSample: 1140, coreShare: 0.00114 },
  { driver: "winsen-ze", samples: 20, cpuMicrosPerSample: 1994, coreShare: 0.00199 },
];

const health = { readings: 1_000_000, duplicates: 0, batches: 1000 };
const drainRun = (overrides: Partial<DrainFigures>): DrainFigures => ({
  endpoint: "receiver",
  compress: true,
  readings: 1_000_000,
  requests: 1000,
  seconds: 6.096,
  readingsPerSecond: 164_042,
  wire: null,
  sensordPeakRssBytes: 153.5 * MIB,
  ingestPeakRssBytes: 148 * MIB,
  sensordCpuSeconds: 3.01,
  ingestCpuSeconds: 1.8,
  health,
  distinctStored: 1_000_000,
  ...overrides,
});
const SYNC: SyncBenchResult = {
  prefill: { readings: 1_000_000, seconds: 4.2, dbBytes: 40 * MIB },
  receiverDrains: [
    drainRun({ runRates: [150_100, 164_042, 168_300], fromProcessStartSeconds: 6.614 }),
    drainRun({
      compress: false,
      seconds: 6.878,
      readingsPerSecond: 145_391,
      runRates: [114_000, 145_391, 156_000],
      fromProcessStartSeconds: 7.69,
      sensordPeakRssBytes: 154.4 * MIB,
      ingestPeakRssBytes: 160.2 * MIB,
    }),
  ],
  drain: drainRun({
    endpoint: "ingest",
    seconds: 10.81,
    readingsPerSecond: 92_488,
    runRates: [88_000, 92_488, 112_000],
    wire: {
      connections: 3,
      requests: 1000,
      requestBytes: 8_700_000,
      bodyBytes: 8_400_000,
      unframedRequests: 0,
      responseBytes: 200_000,
      firstRequestAt: 1000,
      lastResponseAt: 11_810,
      firstRequestEpochMs: 1_764_871_200_000,
      lastResponseEpochMs: 1_764_871_210_810,
    },
    sensordPeakRssBytes: 154 * MIB,
    ingestPeakRssBytes: 143.2 * MIB,
    sensordCpuSeconds: 3.6,
    ingestCpuSeconds: 6.7,
  }),
  original: [
    {
      label: "one reading per POST",
      readings: 10_000,
      requests: 10_000,
      seconds: 3.852,
      readingsPerSecond: 2596,
      requestBytes: 4_267_000,
      bodyBytes: 1_977_000,
      responseBytes: 2_309_000,
      stored: 10_000,
    },
    {
      label: "one 4-gas document per POST",
      readings: 10_000,
      requests: 2500,
      seconds: 0.904,
      readingsPerSecond: 11_057,
      requestBytes: 1_852_000,
      bodyBytes: 1_279_000,
      responseBytes: 576_000,
      stored: 10_000,
    },
  ],
  live: { runs: 3, latenciesMs: [100, 182, 421, 982] },
  outage: {
    outageSeconds: 60,
    backlog: 1_000_000,
    runs: [
      { firstRequestSeconds: 0.15, lastReadingSeconds: 3.5, failedAttempts: 1 },
      { firstRequestSeconds: 0.14, lastReadingSeconds: 3.7, failedAttempts: 1 },
      { firstRequestSeconds: 0.16, lastReadingSeconds: 4.3, failedAttempts: 2 },
    ],
  },
};

const fleetFigures = (readingsPerSecond: number, dbCpuSeconds: number | null): FleetRunFigures => ({
  batches: 5000,
  resends: 500,
  readingsSent: 1_320_000,
  distinctReadings: 1_200_000,
  resentReadings: 120_000,
  bodyBytes: 13.9 * MIB,
  jsonBytes: 154.5 * MIB,
  seconds: 1_320_000 / readingsPerSecond,
  readingsPerSecond,
  storedPerSecond: (readingsPerSecond * 1_200_000) / 1_320_000,
  requests: 5500,
  requestsPerSecond: (readingsPerSecond * 5500) / 1_320_000,
  retries503: 0,
  retriesNetwork: 0,
  ok200: 5500,
  failures: {},
  accepted: 1_200_000,
  duplicates: 120_000,
  latencyMs: { p50: 87, p90: 105, p99: 132.4, max: 249, mean: 90 },
  ingest: [{ pid: 1, peakRssBytes: 153.8 * MIB, cpuSeconds: 15.1, health: null }],
  dbCpuSeconds,
  machine: { busySeconds: 30, othersSeconds: 0.3, stealSeconds: 0 },
  storedRows: null,
  client: {
    cpuSeconds: 0.9,
    machineShare: 0.03,
    buildSeconds: 3,
    buildCpuSeconds: 3,
    peakRssBytes: 200 * MIB,
  },
  problems: [],
});
const FLEET: FleetLoadResult = {
  options: { devices: 1000, minutes: 5, concurrency: 32, resendFraction: 0.1, runs: [] },
  runs: [
    { kind: "sqlite", label: "SQLite, 1 process", ok: true, figures: fleetFigures(92_575, null) },
    {
      kind: "postgres-1",
      label: "PostgreSQL, 1 process",
      ok: true,
      figures: fleetFigures(105_309, 10.6),
    },
    {
      kind: "postgres-2",
      label: "PostgreSQL, 2 processes",
      ok: true,
      figures: fleetFigures(74_831, 14.2),
    },
  ],
};

/** Every section's report for a fixed result, by section name. */
const REPORTS: Record<string, SectionReport> = {
  ingest: ingestReport(INGEST),
  "disk-writes": diskWritesReport(DISK),
  drivers: driversReport(PARSER, CPU, 20),
  sync: syncReport(SYNC),
  dashboard: dashboardReport(DASHBOARD),
  "fleet-load": fleetLoadReport(FLEET),
  memory: memoryReport(MEMORY),
};

/** The README with every block's body cut out: what a run must never change. Independent of findBlocks. */
function outsideBlocks(text: string): string {
  return text.replace(/(<!-- bench:([a-z0-9-]+) -->\n)[\s\S]*?(\n<!-- \/bench:\2 -->)/g, "$1$3");
}

/** Tables of a block body as rows of cells (the stamp line dropped). */
function tablesOf(body: string): string[][][] {
  return body
    .split("\n\n")
    .slice(1)
    .map((table) =>
      table.split("\n").map((line) =>
        line
          .slice(1, -1)
          .split(/(?<!\\)\|/)
          .map((cell) => cell.trim()),
      ),
    );
}

const STAMP_LINE =
  /^_From `[^`]+`, \d{4}-\d\d-\d\d \d\d:\d\d UTC; \d+ cores \([^)]+\), Node\.js v\d+\.\d+\.\d+; (\d+ s, other processes' CPU meanwhile -?\d+\.\d s|copied by hand from that run's output, other processes' CPU not recorded)\._$/;

describe("bench/README.md's blocks and bench/run.ts's sections", () => {
  it("has a block for every block a section writes, and a section for every block", () => {
    const inReadme = findBlocks(readme).map((block) => block.name);
    const declared = SECTIONS.flatMap((section) => section.blocks);
    expect([...inReadme].sort()).toEqual([...declared].sort());
    expect(new Set(declared).size).toBe(declared.length);
  });

  it("each section's report writes exactly the blocks the section declares", () => {
    expect(Object.keys(REPORTS).sort()).toEqual(SECTIONS.map((section) => section.name).sort());
    for (const section of SECTIONS) {
      expect(REPORTS[section.name]?.blocks.map((block) => block.name)).toEqual(section.blocks);
    }
  });

  it("every block holds a stamp, then the tables its section renders: same headers, same rows", () => {
    for (const section of SECTIONS) {
      for (const block of REPORTS[section.name]?.blocks ?? []) {
        const body = blockBody(readme, block.name);
        expect(body.split("\n")[0], `bench:${block.name}'s stamp`).toMatch(STAMP_LINE);
        const inReadme = tablesOf(body);
        const rendered = tablesOf(renderBlockBody(block, STAMP));
        // Headers and row labels are the renderer's; the figures are the run's.
        const skeleton = (tables: string[][][]) =>
          tables.map((rows) => rows.map((cells, index) => (index < 2 ? cells : cells[0])));
        expect(skeleton(inReadme), `bench:${block.name}`).toEqual(skeleton(rendered));
        for (const rows of inReadme) {
          for (const cells of rows) expect(cells.length).toBe(rows[0]?.length);
        }
      }
    }
  });

  it("marks every table outside a block as hand-written, on the line right above it", () => {
    const spans = findBlocks(readme);
    const lines = readme.split("\n");
    let offset = 0;
    const unmarked: string[] = [];
    for (const [index, line] of lines.entries()) {
      const startsTable = line.startsWith("|") && !(lines[index - 1] ?? "").startsWith("|");
      const inBlock = spans.some((span) => offset >= span.bodyStart && offset < span.bodyEnd);
      if (startsTable && !inBlock && !/^<!-- hand-written: .+ -->$/.test(lines[index - 1] ?? "")) {
        unmarked.push(`line ${index + 1}: ${line}`);
      }
      offset += line.length + 1;
    }
    expect(unmarked).toEqual([]);
  });
});

describe("rendering a section's result", () => {
  it("writes the ingest block byte for byte", () => {
    const ingest = REPORTS.ingest?.blocks[0];
    if (ingest === undefined) throw new Error("no ingest block");
    expect(renderBlockBody(ingest, STAMP)).toBe(
      [
        "_From `BENCH_LINES=1000 npm run bench -- ingest`, 2026-12-04 18:15 UTC; 2 cores (AMD EPYC), Node.js v20.20.2; 14 s, other processes' CPU meanwhile 0.3 s._",
        "",
        "| | figure |",
        "|---|---|",
        "| readings | 1,000,000 (1,156 alert events, each forcing an immediate commit) |",
        "| sensord | 351,336 readings/s (2.85 s to the last reading committed, 64 ms of it after the file ended) |",
        "| bare better-sqlite3, same row count and schema, one prepared INSERT, one transaction | 1,080,260 rows/s |",
        "| ratio to that ceiling | 33 % |",
        "| bytes written per reading (`/proc/<pid>/io` `write_bytes`) | 63.2 (WAL + checkpoint into the database) |",
        "| peak RSS (`VmHWM`) | 122.8 MiB |",
      ].join("\n"),
    );
  });

  it("writes the disk, memory and sync rows as the README quotes them", () => {
    const tables = (name: string) =>
      (REPORTS[name]?.blocks ?? []).map((block) => block.tables.map(renderTable).join("\n\n"));
    expect(tables("disk-writes")[0]?.split("\n").slice(2, 4)).toEqual([
      "| 1 s | none | 480 | 444 | 333 | 97.4 MiB |",
      "| 1 s | every ~20 s | 480 | 555 | 416 | 97.4 MiB |",
    ]);
    expect(tables("memory")[0]?.split("\n").slice(0, 3)).toEqual([
      "| configuration | steady RSS over 600 s at 1 Hz (MiB; goal for everything: <= 60) | of which anonymous | of which file pages | peak (MiB) | CPU ms per 1 Hz sample |",
      "|---|---|---|---|---|---|",
      "| everything | 94.2 | 44.2 | 50.0 | 133.0 | 6.05 |",
    ]);
    const sync = tables("sync")[0]?.split("\n") ?? [];
    expect(sync[2]).toBe(
      "| drain of 1 M buffered, gzip, to the minimal receiver: receiver's return -> last reading | 164,042 [150k, 164k, 168k] readings/s (6.10 s) | 205k records/s (4.87 s) |",
    );
    expect(sync[3]).toBe(
      "| same, sensord's process start -> last reading (goal >= 250,000/s) | 151,194 readings/s (6.61 s) | |",
    );
    expect(sync[8]).toBe(
      "| peak RSS (`VmHWM`) | sensord 153.5-154.4 MiB; sensord-ingest 143.2 MiB; the receiver 148-160 MiB | 72-121 MB |",
    );
  });

  it("escapes a pipe inside a cell and refuses a row of the wrong width", () => {
    expect(renderTable({ header: ["a", "b"], rows: [["x | y", ""]] })).toBe(
      "| a | b |\n|---|---|\n| x \\| y | |",
    );
    expect(() => renderTable({ header: ["a", "b"], rows: [["only one"]] })).toThrow(
      ReadmeBlockError,
    );
  });
});

describe("replacing a block", () => {
  it("changes that block's body and not one byte outside it", () => {
    for (const { name } of findBlocks(readme)) {
      const replaced = replaceBlock(readme, name, "new body\n\n| a |\n|---|\n| 1 |");
      expect(outsideBlocks(replaced)).toBe(outsideBlocks(readme));
      expect(blockBody(replaced, name)).toBe("new body\n\n| a |\n|---|\n| 1 |");
      for (const other of findBlocks(readme).filter((block) => block.name !== name)) {
        expect(blockBody(replaced, other.name)).toBe(blockBody(readme, other.name));
      }
    }
  });

  it("refuses a missing, unclosed, nested or repeated block", () => {
    expect(() => replaceBlock("text\n", "ingest", "x")).toThrow(/no block bench:ingest: add/);
    expect(() => findBlocks("<!-- bench:a -->\nx\n")).toThrow(/bench:a is never closed/);
    expect(() => findBlocks("<!-- bench:a -->\n<!-- bench:b -->\n<!-- /bench:b -->\n")).toThrow(
      /opens inside bench:a/,
    );
    const twice = "<!-- bench:a -->\nx\n<!-- /bench:a -->\n";
    expect(() => findBlocks(twice + twice)).toThrow(/appears twice/);
  });
});

describe("a bench run", () => {
  const fixed = (name: string, report: SectionReport): BenchSection => ({
    name,
    blocks: report.blocks.map((block) => block.name),
    run: async () => report,
  });

  it("rewrites a section's blocks and leaves a failing section's blocks as they were", async () => {
    const path = join(temp.dir, "README.md");
    copyFileSync(README, path);
    const ingest = REPORTS.ingest ?? { blocks: [], notes: [] };
    const outcome = await runSections(
      [
        fixed("ingest", ingest),
        {
          name: "memory",
          blocks: ["memory"],
          run: () => Promise.reject(new Error("broken on purpose")),
        },
        { ...fixed("drivers", ingest), blocks: ["drivers"] },
        fixed("fleet-load", { ...(REPORTS["fleet-load"] ?? ingest), problems: ["a 500"] }),
      ],
      { readmePath: path, dir: temp.dir, command: "npm run bench" },
    );
    expect(outcome.written).toEqual(["ingest"]);
    expect(outcome.failed).toEqual([
      { section: "memory", error: "broken on purpose" },
      { section: "drivers", error: "produced blocks ingest, declared drivers" },
      { section: "fleet-load", error: "checks failed: a 500" },
    ]);
    const after = readFileSync(path, "utf8");
    expect(outsideBlocks(after)).toBe(outsideBlocks(readme));
    expect(blockBody(after, "ingest").split("\n").slice(1).join("\n")).toBe(
      ["", ...(ingest.blocks[0]?.tables ?? []).map(renderTable)].join("\n"),
    );
    expect(blockBody(after, "ingest")).toMatch(/^_From `npm run bench`, \d{4}-/);
    for (const name of ["memory", "drivers", "fleet-load", "sync", "dashboard-fleet"]) {
      expect(blockBody(after, name)).toBe(blockBody(readme, name));
    }
    expect(readdirSync(temp.dir).filter((file) => file.endsWith(".tmp"))).toEqual([]);
  });

  it("stops before measuring when the README lacks a section's block", async () => {
    const path = join(temp.dir, "no-memory.md");
    const memory = /<!-- bench:memory -->\n[\s\S]*?<!-- \/bench:memory -->\n/;
    expect(readme).toMatch(memory);
    writeFileSync(path, readme.replace(memory, ""));
    let ran = false;
    const section: BenchSection = {
      name: "memory",
      blocks: ["memory"],
      run: async () => {
        ran = true;
        return { blocks: [], notes: [] };
      },
    };
    await expect(
      runSections([section], { readmePath: path, dir: temp.dir, command: "npm run bench" }),
    ).rejects.toThrow(/has no block bench:memory for section memory: add its markers first/);
    expect(ran).toBe(false);
  });

  it("names the knobs that shaped it and runs only the sections asked for", () => {
    expect(
      benchCommand({ BENCH_SECONDS: "5", BENCH_LINES: "1000", BENCH_ONLY: "x", HOME: "/" }, [
        "ingest",
      ]),
    ).toBe("BENCH_LINES=1000 BENCH_SECONDS=5 npm run bench -- ingest");
    expect(benchCommand({}, [])).toBe("npm run bench");
    expect(selectSections(["memory", "ingest"]).map((section) => section.name)).toEqual([
      "memory",
      "ingest",
    ]);
    expect(() => selectSections(["memroy"])).toThrow(
      /no bench section "memroy": choose among ingest, disk-writes, drivers, sync, dashboard, fleet-load, memory/,
    );
  });

  it("`node dist/bench/run.js ingest` rewrites the ingest block of the README it is given, and only it", () => {
    const path = join(temp.dir, "cli.md");
    copyFileSync(README, path);
    const result = spawnSync(process.execPath, [join(ROOT, "dist/bench/run.js"), "ingest"], {
      cwd: ROOT,
      env: cleanEnv({ BENCH_README: path, BENCH_LINES: "250" }),
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("ingest: wrote bench:ingest");
    const after = readFileSync(path, "utf8");
    expect(outsideBlocks(after)).toBe(outsideBlocks(readme));
    const body = blockBody(after, "ingest");
    expect(body).toMatch(
      /^_From `BENCH_LINES=250 npm run bench -- ingest`, \d{4}-\d\d-\d\d \d\d:\d\d UTC; \d+ cores/,
    );
    expect(body).toContain("| readings | 1,000 (");
    for (const { name } of findBlocks(readme).filter((block) => block.name !== "ingest")) {
      expect(blockBody(after, name)).toBe(blockBody(readme, name));
    }
  }, 60_000);
});
