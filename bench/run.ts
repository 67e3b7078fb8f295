import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { benchDashboard, dashboardReport } from "./dashboard.js";
import { benchDiskWriteRuns, diskWritesReport } from "./disk-writes.js";
import { benchI2cDriverCpu, benchZeDriverCpu, benchZeParser, driversReport } from "./drivers.js";
import { benchFleetLoad, fleetLoadOptionsFromEnv, fleetLoadReport } from "./fleet-load.js";
import { benchIngest, ingestReport } from "./ingest.js";
import { describeMachine, startLoadMeter } from "./machine.js";
import { benchMemory, memoryReport } from "./memory.js";
import {
  findBlocks,
  printReport,
  ReadmeBlockError,
  renderBlockBody,
  replaceBlock,
  type SectionReport,
  type Stamp,
  writeFileAtomically,
} from "./report.js";
import { benchSync, syncReport } from "./sync.js";

/**
 * `npm run bench`: runs every section, prints its tables and details, and
 * rewrites its blocks in bench/README.md (see bench/report.ts).
 * `npm run bench -- memory sync` (or BENCH_ONLY=memory,sync) runs only those.
 * BENCH_LINES (default 250000 ticks x 4 gases), BENCH_SECONDS (disk window,
 * default 120), BENCH_DRIVER_SECONDS (per driver, default 20) and the sync and
 * fleet knobs (see their modules) shrink a run; the blocks' stamps name them.
 * BENCH_README writes another file than bench/README.md (a trial run).
 */

export interface BenchSection {
  name: string;
  /** The README blocks it writes, in the order it writes them. */
  blocks: readonly string[];
  run: (dir: string) => Promise<SectionReport>;
}

const knob = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

export const SECTIONS: readonly BenchSection[] = [
  {
    name: "ingest",
    blocks: ["ingest"],
    run: async (dir) => ingestReport(await benchIngest(dir, knob("BENCH_LINES", 250_000))),
  },
  {
    name: "disk-writes",
    blocks: ["disk-writes"],
    run: async (dir) => diskWritesReport(await benchDiskWriteRuns(dir, knob("BENCH_SECONDS", 120))),
  },
  {
    name: "drivers",
    blocks: ["drivers"],
    run: async (dir) => {
      const seconds = knob("BENCH_DRIVER_SECONDS", 20);
      const parser = benchZeParser(1_000_000);
      const cpu = [
        await benchI2cDriverCpu("grove-mics6814", seconds),
        await benchI2cDriverCpu("grove-gm", seconds),
        await benchZeDriverCpu(dir, seconds),
      ];
      return driversReport(parser, cpu, seconds);
    },
  },
  {
    name: "sync",
    blocks: ["sync", "sync-original"],
    run: async (dir) => syncReport(await benchSync(dir)),
  },
  {
    name: "dashboard",
    blocks: ["dashboard-fleet", "dashboard-device"],
    run: async (dir) => dashboardReport(await benchDashboard(dir)),
  },
  {
    name: "fleet-load",
    blocks: ["fleet-load"],
    run: async (dir) => fleetLoadReport(await benchFleetLoad(dir, fleetLoadOptionsFromEnv())),
  },
  {
    name: "memory",
    blocks: ["memory"],
    run: async (dir) => memoryReport(await benchMemory(dir)),
  },
];

export class BenchUsageError extends Error {
  override readonly name = "BenchUsageError";
}

/** The sections named on the command line or in BENCH_ONLY (comma-separated); all by default. */
export function selectSections(
  names: readonly string[],
  sections: readonly BenchSection[] = SECTIONS,
): BenchSection[] {
  if (names.length === 0) return [...sections];
  return names.map((name) => {
    const section = sections.find((candidate) => candidate.name === name);
    if (section === undefined) {
      throw new BenchUsageError(
        `no bench section "${name}": choose among ${sections.map((known) => known.name).join(", ")}`,
      );
    }
    return section;
  });
}

/**
 * How the figures were made, for the stamp: the BENCH_* knobs that shape a run
 * (so a shortened run says so in the README), then the command.
 */
export function benchCommand(env: NodeJS.ProcessEnv, selected: readonly string[]): string {
  const knobs = Object.keys(env)
    .filter((key) => key.startsWith("BENCH_") && key !== "BENCH_ONLY" && key !== "BENCH_README")
    .sort()
    .map((key) => `${key}=${env[key]} `)
    .join("");
  return `${knobs}npm run bench${selected.length === 0 ? "" : ` -- ${selected.join(" ")}`}`;
}

export interface RunOutcome {
  written: string[];
  failed: Array<{ section: string; error: string }>;
}

/**
 * Runs each section and, when it succeeds, rewrites its blocks in the README
 * at once (a later section's crash cannot lose them). A section that throws,
 * reports failed checks or produces other blocks than it declares leaves its
 * old blocks as they were, and says so.
 */
export async function runSections(
  sections: readonly BenchSection[],
  options: { readmePath: string; dir: string; command: string },
): Promise<RunOutcome> {
  const machine = describeMachine();
  // A README without a block for a selected section fails now, not after minutes of measuring.
  const present = new Set(findBlocks(readFileSync(options.readmePath, "utf8")).map((b) => b.name));
  for (const section of sections) {
    const missing = section.blocks.filter((name) => !present.has(name));
    if (missing.length > 0) {
      throw new ReadmeBlockError(
        `${options.readmePath} has no block ${missing.map((name) => `bench:${name}`).join(", ")} for section ${section.name}: add its markers first`,
      );
    }
  }
  const outcome: RunOutcome = { written: [], failed: [] };
  for (const section of sections) {
    console.log(`\n## ${section.name}`);
    const meter = startLoadMeter();
    try {
      const at = new Date();
      const report = await section.run(options.dir);
      const stamp: Stamp = { command: options.command, at, machine, load: meter() };
      printReport(report);
      const problems = report.problems ?? [];
      if (problems.length > 0) throw new Error(`checks failed: ${problems.join("; ")}`);
      const produced = report.blocks.map((block) => block.name);
      if (produced.join(",") !== section.blocks.join(",")) {
        throw new Error(
          `produced blocks ${produced.join(", ")}, declared ${section.blocks.join(", ")}`,
        );
      }
      let text = readFileSync(options.readmePath, "utf8");
      for (const block of report.blocks) {
        text = replaceBlock(text, block.name, renderBlockBody(block, stamp));
      }
      writeFileAtomically(options.readmePath, text);
      outcome.written.push(...produced);
      console.log(`${section.name}: wrote ${produced.map((name) => `bench:${name}`).join(", ")}`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      outcome.failed.push({ section: section.name, error: message });
      console.error(
        `${section.name} FAILED, its blocks in ${options.readmePath} left as they were: ${message}`,
      );
    }
  }
  return outcome;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const names = [
    ...process.argv.slice(2),
    ...(process.env.BENCH_ONLY ?? "").split(",").filter((name) => name.trim() !== ""),
  ].map((name) => name.trim());
  const sections = selectSections(names);
  const readmePath =
    process.env.BENCH_README ?? resolve(import.meta.dirname, "../../bench/README.md");
  const dir = mkdtempSync(join(tmpdir(), "sensord-bench-"));
  try {
    const outcome = await runSections(sections, {
      readmePath,
      dir,
      command: benchCommand(process.env, names),
    });
    if (outcome.failed.length > 0) {
      console.error(
        `\n${outcome.failed.length} section(s) failed: ${outcome.failed.map((failure) => failure.section).join(", ")}`,
      );
      process.exitCode = 1;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
