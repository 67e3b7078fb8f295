import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { startIngestServer } from "../cloud/http/server.js";
import { openIngestDatabase } from "../cloud/store/sqlite/db.js";
import { seriesQuery } from "../cloud/store/sqlite/series.js";
import { DEFAULT_WIDTH, planBuckets } from "../core/buckets.js";
import { createLogger } from "../core/logger.js";
import { deviceSeries } from "../daemon/dashboard/series.js";
import { TimeIndex } from "../daemon/dashboard/time-index.js";
import { openStore } from "../daemon/store/store.js";
import { BenchDaemon } from "./daemon-process.js";
import { formatPageWeight, pageWeight } from "./page-weight.js";
import { formatCount, printReport, type SectionReport } from "./report.js";

export interface DashboardBench {
  readings: number;
  generateSeconds: number;
  /** Best of 3, in-process (SQL + shaping), a week of every gas at DEFAULT_WIDTH. */
  weekQueryMs: number;
  /** The same over HTTP (GET /readings/series), best of 3. */
  weekHttpMs: number;
  weekHttpBytes: number;
  /** The last hour, over HTTP, best of 3. */
  hourHttpMs: number;
  pageFiles: number;
  pageBytes: number;
  pageGzipBytes: number;
  /** The device dashboard served by sensord, over the same week in a device database. */
  device: DeviceDashboardBench;
}

export interface DeviceDashboardBench {
  readings: number;
  generateSeconds: number;
  /** In-process, the first query: includes building the time index (one pass over the table). */
  weekFirstQueryMs: number;
  /** In-process, best of 3 after that. */
  weekQueryMs: number;
  /** From the running sensord (GET /api/series), best of 3, and the answer's size. */
  weekHttpMs: number;
  weekHttpBytes: number;
  hourHttpMs: number;
  pageFiles: number;
  pageBytes: number;
  pageGzipBytes: number;
}

const GASES = ["co", "no2", "c2h5oh", "h2"] as const;
const DAY_MS = 86_400_000;

/**
 * 7 days of 4 gases at 1 Hz (2,419,200 readings) from one device, written
 * with direct SQL in one transaction, then timed as the fleet page asks for
 * it. Page weight: the fleet page and everything it loads.
 */
export async function benchDashboard(dir: string, days = 7): Promise<DashboardBench> {
  const dbPath = join(dir, "dashboard.db");
  const toMs = Date.UTC(2026, 10, 26);
  const fromMs = toMs - days * DAY_MS;
  const started = performance.now();
  const db = openIngestDatabase(dbPath);
  db.exec(`INSERT INTO batches (seq, key, batch_id, format, index_name, gps, received_at, status, body, accepted, duplicates)
           VALUES (1, 'bench', 'bench', 'batch', NULL, '37.61, 126.99', ${toMs}, 200, '', 0, 0)`);
  const addSeries = db.prepare<[number, string, string]>(
    `INSERT INTO series (id, device, group_id, sensor, gas, unit, sensor_id, sensor_type)
     VALUES (?, 'pi-bench', '1', 'gas0', ?, ?, '', '')`,
  );
  for (const [index, gas] of GASES.entries()) {
    addSeries.run(index + 1, gas, gas === "no2" ? "ppb" : "ppm");
  }
  const insert = db.prepare<[string, number, number, number]>(
    "INSERT INTO readings (id, series, ts, value, flags, batch) VALUES (?, ?, ?, ?, '', 1)",
  );
  let readings = 0;
  db.transaction(() => {
    for (let ts = fromMs; ts < toMs; ts += 1000) {
      for (let series = 1; series <= GASES.length; series++) {
        insert.run(
          `benchprefx-r${readings.toString(36)}`,
          series,
          ts,
          10 + ((ts / 1000 + series * 7) % 50),
        );
        readings++;
      }
    }
  })();
  const generateSeconds = (performance.now() - started) / 1000;

  const query = seriesQuery(db);
  const weekQueryMs = bestOf(3, () => query({ plan: planBuckets(fromMs, toMs, DEFAULT_WIDTH) }));
  db.close();

  const server = await startIngestServer({ dbPath });
  try {
    let weekHttpBytes = 0;
    const weekHttpMs = await bestOfAsync(3, async () => {
      const response = await fetch(`${server.url}/readings/series?from=${fromMs}&to=${toMs}`);
      weekHttpBytes = (await response.arrayBuffer()).byteLength;
    });
    const hourHttpMs = await bestOfAsync(3, async () => {
      await (
        await fetch(`${server.url}/readings/series?from=${toMs - 3_600_000}&to=${toMs}`)
      ).arrayBuffer();
    });
    const page = await pageWeight(server.url);
    const device = await benchDeviceDashboard(dir, fromMs, toMs);
    return {
      device,
      readings,
      generateSeconds,
      weekQueryMs,
      weekHttpMs,
      weekHttpBytes,
      hourHttpMs,
      pageFiles: page.files,
      pageBytes: page.bytes,
      pageGzipBytes: page.gzipBytes,
    };
  } finally {
    await server.close();
  }
}

const SILENT = createLogger({ level: "error", journald: false, write: () => {} });

/**
 * The same week in a *device* database (the store's schema, made by its
 * migrations; rows written with direct SQL in one transaction), queried
 * in-process and from a real sensord serving its dashboard on it.
 */
async function benchDeviceDashboard(
  dir: string,
  fromMs: number,
  toMs: number,
): Promise<DeviceDashboardBench> {
  const dbPath = join(dir, "device.db");
  const started = performance.now();
  const store = openStore({ path: dbPath, maxBytes: 1024 ** 3, log: SILENT });
  store.close();
  const db = new Database(dbPath);
  const addSeries = db.prepare<[number, string, string]>(
    "INSERT INTO series (id, sensor, gas, unit) VALUES (?, 'gas0', ?, ?)",
  );
  for (const [index, gas] of GASES.entries()) {
    addSeries.run(index + 1, gas, gas === "no2" ? "ppb" : "ppm");
  }
  const insert = db.prepare<[number, number, number, number]>(
    "INSERT INTO readings (seq, series, ts, value, flags) VALUES (?, ?, ?, ?, 0)",
  );
  let readings = 0;
  db.transaction(() => {
    for (let ts = fromMs; ts < toMs; ts += 1000) {
      for (let series = 1; series <= GASES.length; series++) {
        readings++;
        insert.run(readings, series, ts, 10 + ((ts / 1000 + series * 7) % 50));
      }
    }
  })();
  const generateSeconds = (performance.now() - started) / 1000;
  const query = deviceSeries(db, new TimeIndex(db), { id: "pi-bench", group: "1" });
  const firstStarted = performance.now();
  await query({ fromMs, toMs, width: DEFAULT_WIDTH });
  const weekFirstQueryMs = performance.now() - firstStarted;
  const weekQueryMs = await bestOfAsync(3, () => query({ fromMs, toMs, width: DEFAULT_WIDTH }));
  db.close();

  const port = await freePort();
  const config = join(dir, "device.toml");
  writeFileSync(
    config,
    `[storage]\npath = "${dbPath}"\nmax_bytes = "1GiB"\n\n[control]\nsocket = ""\n\n[http]\nlisten = "127.0.0.1:${port}"\n\n` +
      '[[sensors]]\nid = "gas0"\ndriver = "sim"\n',
  );
  const daemon = new BenchDaemon(config);
  try {
    await daemon.waitForLog(/dashboard on http:/);
    const base = `http://127.0.0.1:${port}`;
    let weekHttpBytes = 0;
    const weekHttpMs = await bestOfAsync(3, async () => {
      const response = await fetch(`${base}/api/series?from=${fromMs}&to=${toMs}`);
      weekHttpBytes = (await response.arrayBuffer()).byteLength;
    });
    const hourHttpMs = await bestOfAsync(3, async () => {
      await (await fetch(`${base}/api/series?from=${toMs - 3_600_000}&to=${toMs}`)).arrayBuffer();
    });
    const page = await pageWeight(base);
    return {
      readings,
      generateSeconds,
      weekFirstQueryMs,
      weekQueryMs,
      weekHttpMs,
      weekHttpBytes,
      hourHttpMs,
      pageFiles: page.files,
      pageBytes: page.bytes,
      pageGzipBytes: page.gzipBytes,
    };
  } finally {
    await daemon.stop();
  }
}

/** A loopback port free right now (sensord's log is not readable from here to learn a port-0 pick). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolveListen) => server.listen(0, "127.0.0.1", resolveListen));
  const address = server.address();
  await new Promise((resolveClose) => server.close(resolveClose));
  return typeof address === "object" && address !== null ? address.port : 0;
}

function bestOf(runs: number, run: () => unknown): number {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    run();
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

async function bestOfAsync(runs: number, run: () => Promise<unknown>): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await run();
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

const kilobytes = (bytes: number) => `${(bytes / 1000).toFixed(0)} KB`;

/** The two tables of `## Dashboards` in bench/README.md: the fleet page's, then the device page's. */
export function dashboardReport(result: DashboardBench): SectionReport {
  const week = `a week, all 4 gases, ${DEFAULT_WIDTH} buckets`;
  const fleet = [
    ["generate the database", `${result.generateSeconds.toFixed(1)} s`],
    [`${week}: query (in-process)`, `${result.weekQueryMs.toFixed(0)} ms`],
    [
      "the same over HTTP (`GET /readings/series`)",
      `${result.weekHttpMs.toFixed(0)} ms, ${kilobytes(result.weekHttpBytes)} of JSON`,
    ],
    ["the last hour over HTTP", `${result.hourHttpMs.toFixed(0)} ms`],
    [
      "fleet page weight (HTML, CSS, script modules, uPlot)",
      formatPageWeight({
        files: result.pageFiles,
        bytes: result.pageBytes,
        gzipBytes: result.pageGzipBytes,
      }),
    ],
  ];
  const device = result.device;
  const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const deviceRows = [
    ["generate the database", `${device.generateSeconds.toFixed(1)} s`],
    [`${week}: first query (in-process, builds the time index)`, seconds(device.weekFirstQueryMs)],
    ["the same, after (in-process, best of 3)", seconds(device.weekQueryMs)],
    [
      "the same over HTTP from a running sensord",
      `${seconds(device.weekHttpMs)}, ${kilobytes(device.weekHttpBytes)} of JSON`,
    ],
    ["the last hour over HTTP", `${device.hourHttpMs.toFixed(0)} ms`],
    [
      "device page weight (HTML, CSS, script modules, uPlot)",
      formatPageWeight({
        files: device.pageFiles,
        bytes: device.pageBytes,
        gzipBytes: device.pageGzipBytes,
      }),
    ],
  ];
  return {
    blocks: [
      { name: "dashboard-fleet", tables: [{ header: ["what", "figure"], rows: fleet }] },
      { name: "dashboard-device", tables: [{ header: ["what", "figure"], rows: deviceRows }] },
    ],
    notes: [
      `dashboards: ${formatCount(result.readings)} readings in the ingest database, ${formatCount(device.readings)} in the device database`,
    ],
  };
}

const isMain =
  process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename);
if (isMain) {
  const dir = mkdtempSync(join(tmpdir(), "sensord-bench-dashboard-"));
  try {
    printReport(dashboardReport(await benchDashboard(dir)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
