import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IngestServer, startIngestServer } from "../../cloud/http/server.js";
import { DaemonProcess, killAllDaemons, makeTempDir, ROOT } from "../../test/support/processes.js";
import { formatPageWeight, type PageWeight, pageWeight } from "../page-weight.js";

/**
 * The page weights quoted in bench/README.md and README.md, held to what the
 * servers serve now: a change to web/ that grows a page fails here until the
 * figures are updated (the bench prints the same cell, `formatPageWeight`).
 * Weights do not depend on the data, so empty databases are enough.
 */
const temp = makeTempDir("sensord-page-weight-");
let ingest: IngestServer;
let daemon: DaemonProcess;
let fleet: PageWeight;
let device: PageWeight;

beforeAll(async () => {
  ingest = await startIngestServer({ dbPath: join(temp.dir, "ingest.db") });
  fleet = await pageWeight(ingest.url);
  const config = join(temp.dir, "sensord.toml");
  writeFileSync(
    config,
    '[storage]\npath = "sensord.db"\n\n[control]\nsocket = ""\n\n[http]\nlisten = "127.0.0.1:0"\n\n[[sensors]]\nid = "gas0"\ndriver = "sim"\n',
  );
  daemon = new DaemonProcess(["--config", config]);
  const base = (await daemon.waitForLog(/dashboard on (http:\/\/127\.0\.0\.1:\d+)\//))[1] ?? "";
  device = await pageWeight(base);
}, 30_000);

afterAll(async () => {
  await ingest?.close();
  await killAllDaemons();
  temp.cleanup();
});

/** The figure cell of the bench/README.md table row that starts with `label`. */
function benchReadmeCell(label: string): string {
  const readme = readFileSync(join(ROOT, "bench/README.md"), "utf8");
  const row = readme.split("\n").find((line) => line.startsWith(`| ${label} `));
  if (row === undefined) throw new Error(`bench/README.md has no row "${label}"`);
  return row.split("|")[2]?.trim() ?? "";
}

describe("page weights in the READMEs", () => {
  it("bench/README.md quotes the fleet page as served", () => {
    expect(benchReadmeCell("fleet page weight")).toBe(formatPageWeight(fleet));
  });

  it("bench/README.md quotes the device page as served", () => {
    expect(benchReadmeCell("device page weight")).toBe(formatPageWeight(device));
  });

  it("README.md quotes the fleet page in KB as served", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8").replace(/\s+/g, " ");
    const quoted = /loads is (\d+) KB \((\d+) KB gzip'd, as served\)/.exec(readme);
    expect(quoted?.slice(1, 3).map(Number)).toEqual([
      Math.round(fleet.bytes / 1000),
      Math.round(fleet.gzipBytes / 1000),
    ]);
  });
});
