import { renameSync, rmSync, writeFileSync } from "node:fs";

/**
 * The bench's tables as data, rendered to the Markdown blocks of
 * bench/README.md. A block sits between `<!-- bench:NAME -->` and
 * `<!-- /bench:NAME -->`; everything outside the markers is hand-written and
 * is never touched by a run.
 */

export interface Table {
  header: readonly string[];
  rows: ReadonlyArray<readonly string[]>;
}

/** One README block: the tables a section writes between its markers. */
export interface Block {
  name: string;
  tables: readonly Table[];
}

/** What a section hands back: its README blocks, and details printed to stdout only. */
export interface SectionReport {
  blocks: readonly Block[];
  notes: readonly string[];
  /** Checks the run failed: any at all keeps the section's old blocks in the README. */
  problems?: readonly string[];
}

/** Where and when a block's figures were measured, written as the block's first line. */
export interface Stamp {
  /** The command that produced the figures, with any BENCH_* knob that shrank the run. */
  command: string;
  at: Date;
  machine: { cores: number; cpuModel: string; node: string };
  /** null for figures copied into the block by hand, before the bench wrote them itself. */
  load: { seconds: number; othersCpuSeconds: number } | null;
}

export class ReadmeBlockError extends Error {
  override readonly name = "ReadmeBlockError";
}

export const openMarker = (name: string) => `<!-- bench:${name} -->`;
export const closeMarker = (name: string) => `<!-- /bench:${name} -->`;

const MARKER = /<!-- (\/?)bench:([a-z0-9-]+) -->/g;

/** A cell may not hold a pipe or a line break: either would end it and break the table. */
function cell(text: string): string {
  const escaped = text.replaceAll("|", "\\|").replaceAll("\n", " ");
  return escaped === "" ? " " : ` ${escaped} `;
}

export function renderTable(table: Table): string {
  const width = table.header.length;
  for (const row of table.rows) {
    if (row.length !== width) {
      throw new ReadmeBlockError(
        `a table row has ${row.length} cells, its header ${width}: ${JSON.stringify(row)}`,
      );
    }
  }
  const line = (cells: readonly string[]) => `|${cells.map(cell).join("|")}|`;
  return [
    line(table.header),
    `|${table.header.map(() => "---").join("|")}|`,
    ...table.rows.map(line),
  ].join("\n");
}

export function renderStamp(stamp: Stamp): string {
  const at = `${stamp.at.toISOString().slice(0, 16).replace("T", " ")} UTC`;
  const { cores, cpuModel, node } = stamp.machine;
  const load =
    stamp.load === null
      ? "copied by hand from that run's output, other processes' CPU not recorded"
      : `${stamp.load.seconds.toFixed(0)} s, other processes' CPU meanwhile ${stamp.load.othersCpuSeconds.toFixed(1)} s`;
  return `_From \`${stamp.command}\`, ${at}; ${cores} cores (${cpuModel}), Node.js ${node}; ${load}._`;
}

/** What goes between a block's markers (the markers' own lines excluded). */
export function renderBlockBody(block: Block, stamp: Stamp): string {
  return [renderStamp(stamp), ...block.tables.map(renderTable)].join("\n\n");
}

export interface BlockSpan {
  name: string;
  /** The body: from after the opening marker's line to before the closing marker. */
  bodyStart: number;
  bodyEnd: number;
}

/**
 * Every block of a README, in order. Refuses nested, unclosed, stray or
 * repeated markers: a run must never guess where a block ends.
 */
export function findBlocks(text: string): BlockSpan[] {
  const blocks: BlockSpan[] = [];
  let open: { name: string; bodyStart: number } | null = null;
  for (const match of text.matchAll(MARKER)) {
    const [marker, slash, name = ""] = match;
    const index = match.index;
    if (slash === "") {
      if (open !== null) {
        throw new ReadmeBlockError(`bench:${name} opens inside bench:${open.name}: close it first`);
      }
      if (blocks.some((block) => block.name === name)) {
        throw new ReadmeBlockError(`bench:${name} appears twice: keep one block per name`);
      }
      if (text[index + marker.length] !== "\n") {
        throw new ReadmeBlockError(`${marker} must end its line`);
      }
      open = { name, bodyStart: index + marker.length + 1 };
    } else {
      if (open?.name !== name) {
        throw new ReadmeBlockError(`${marker} closes a block that is not open`);
      }
      if (text[index - 1] !== "\n") throw new ReadmeBlockError(`${marker} must start its line`);
      blocks.push({ name, bodyStart: open.bodyStart, bodyEnd: index - 1 });
      open = null;
    }
  }
  if (open !== null) throw new ReadmeBlockError(`bench:${open.name} is never closed`);
  return blocks;
}

export function blockBody(text: string, name: string): string {
  const span = findBlocks(text).find((block) => block.name === name);
  if (span === undefined) throw new ReadmeBlockError(missingBlock(name));
  return text.slice(span.bodyStart, span.bodyEnd);
}

/** The README with one block's body replaced; every byte outside that body stays as it was. */
export function replaceBlock(text: string, name: string, body: string): string {
  const span = findBlocks(text).find((block) => block.name === name);
  if (span === undefined) throw new ReadmeBlockError(missingBlock(name));
  return text.slice(0, span.bodyStart) + body + text.slice(span.bodyEnd);
}

function missingBlock(name: string): string {
  return `bench/README.md has no block bench:${name}: add "${openMarker(name)}" and "${closeMarker(name)}" lines where its tables go`;
}

/** Temp file + rename in the same directory: a reader never sees half a README. */
export function writeFileAtomically(path: string, text: string): void {
  const temp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, text);
    renameSync(temp, path);
  } finally {
    rmSync(temp, { force: true });
  }
}

export const formatCount = (value: number) => Math.round(value).toLocaleString("en-US");
export const formatMib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** stdout: the blocks as Markdown (the README's own text), then the details. */
export function printReport(report: SectionReport): void {
  for (const block of report.blocks) {
    console.log(`### ${block.name}`);
    for (const table of block.tables) console.log(`${renderTable(table)}\n`);
  }
  for (const note of report.notes) console.log(note);
  for (const problem of report.problems ?? []) console.log(`FAILED: ${problem}`);
}
