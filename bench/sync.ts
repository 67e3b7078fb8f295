import { type ChildProcess, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import Database from "better-sqlite3";
import { CountingProxy, type WireCounts } from "./counting-proxy.js";
import type { DrainOptions, DrainReport } from "./drain-child.js";
import { percentile } from "./fixtures.js";
import { BenchServer, type IngestHealth } from "./ingest-process.js";
import { replayIntoDatabase } from "./replay-run.js";
import { formatCount, formatMib, printReport, type SectionReport } from "./report.js";

/**
 * The sync benchmark (`## Sync` in bench/README.md), on loopback with real
 * processes: a prefilled sensord database drained by a SyncWorker in a child
 * process of its own (bench/drain-child.ts) into the `sensord-ingest` binary
 * in another, through a counting TCP proxy in this process.
 *
 * BENCH_SYNC_READINGS (backlog, default 1,000,000), BENCH_SYNC_ORIGINAL
 * (readings posted the original way, default 10,000) and BENCH_OUTAGE_SECONDS
 * (default 60; 0 skips the outage run) shrink a run.
 * `node dist/bench/sync.js` runs this part alone.
 */

const DRAIN_CHILD = resolve(import.meta.dirname, "drain-child.js");
const LIVE_EVERY_MS = 100;
/** The wait for any one drain, on top of the outage. */
const DRAIN_DEADLINE_MS = 150_000;

export interface DrainFigures {
  /** Every run's readings/s, slowest first, when this is the median of several. */
  runRates?: number[];
  endpoint: "ingest" | "receiver";
  compress: boolean;
  readings: number;
  requests: number;
  /**
   * sensord-ingest: first request byte to last response byte, at the proxy.
   * The receiver: from its return (it starts listening while the drain child,
   * already running, is backing off from a refused connection) to the last
   * reading it accepted, as peers.md timed Fluent Bit.
   */
  seconds: number;
  /** The receiver runs: from spawning the drain child's process to the last reading accepted. */
  fromProcessStartSeconds?: number;
  readingsPerSecond: number;
  /** null when the drain ran without the counting proxy (the receiver runs). */
  wire: WireCounts | null;
  /** Measured by the drain child itself: first trigger() to nothing pending. */
  childSeconds: number;
  sensordPeakRssBytes: number;
  /** The endpoint's (sensord-ingest's or the receiver's). */
  ingestPeakRssBytes: number;
  /** CPU seconds over the drain: the drain child (from its first trigger) and the endpoint. */
  sensordCpuSeconds: number;
  ingestCpuSeconds: number;
  health: IngestHealth;
  /** count(*) of the ingest database's readings table (primary key: the reading id). */
  distinctStored: number;
}

export interface OriginalFigures {
  label: string;
  readings: number;
  requests: number;
  seconds: number;
  readingsPerSecond: number;
  requestBytes: number;
  bodyBytes: number;
  responseBytes: number;
  stored: number;
}

export interface LiveFigures {
  backlog: number;
  drainSeconds: number;
  liveCommitted: number;
  /** Latencies (ms) of the live readings committed while the backlog drained. */
  latenciesMs: number[];
  allArrived: boolean;
}

export interface OutageFigures {
  outageSeconds: number;
  backlog: number;
  /** From the endpoint's return to the first request reaching it. */
  firstRequestSeconds: number;
  /** From the endpoint's return until the last reading was accepted (last response byte). */
  lastReadingSeconds: number;
  failedAttempts: number | null;
  distinctStored: number;
  duplicates: number;
}

export interface SyncBenchResult {
  prefill: { readings: number; seconds: number; dbBytes: number };
  drain: DrainFigures;
  /** The same backlog into the minimal receiver: gzip, then plain (peers.md's workload). */
  receiverDrains: DrainFigures[];
  original: OriginalFigures[];
  live: LiveFigures;
  outage: OutageFigures | null;
}

export async function benchSync(dir: string): Promise<SyncBenchResult> {
  const backlog = Number(process.env.BENCH_SYNC_READINGS ?? 1_000_000);
  const originalCount = Number(process.env.BENCH_SYNC_ORIGINAL ?? 10_000);
  const outageSeconds = Number(process.env.BENCH_OUTAGE_SECONDS ?? 60);
  const prefill = await prefillBacklog(dir, backlog);

  // Median of DRAIN_RUNS, as peers.md's Fluent Bit figures are: a 2-core VM's
  // single runs vary by tens of percent.
  const receiverDrains = [
    await medianDrain(() => drainIntoReceiver(dir, prefill.db, true)),
    await medianDrain(() => drainIntoReceiver(dir, prefill.db, false)),
  ];
  const drain = await medianDrain((run) =>
    withIngest(join(dir, `sync-ingest-drain-${run}.db`), (ingest) =>
      measureDrain(dir, prefill.db, ingestEndpoint(ingest), true),
    ),
  );
  const drainRun = await withIngest(join(dir, "sync-ingest-original.db"), async (ingest) => {
    const original = [
      await postOriginalWay(ingest.url, prefill.replayFile, originalCount, 1),
      await postOriginalWay(ingest.url, prefill.replayFile, originalCount, 4),
    ];
    const after = await ingest.process.health(ingest.url);
    const expected = original.reduce((sum, run) => sum + run.readings, 0);
    if (after.readings !== expected) {
      throw new Error(`ingest holds ${after.readings} readings, expected ${expected}`);
    }
    return { drain, original };
  });
  const live = await withIngest(join(dir, "sync-ingest-live.db"), (ingest) =>
    measureLive(dir, prefill.db, ingest),
  );
  const outage =
    outageSeconds > 0
      ? await withIngest(join(dir, "sync-ingest-outage.db"), (ingest) =>
          measureOutage(dir, prefill.db, ingest, outageSeconds),
        )
      : null;
  return {
    prefill: { readings: prefill.readings, seconds: prefill.seconds, dbBytes: prefill.dbBytes },
    ...drainRun,
    receiverDrains,
    live,
    outage,
  };
}

/** The backlog: see replay-run.ts; each run then drains its own copy of the file. */
async function prefillBacklog(
  dir: string,
  readings: number,
): Promise<{ db: string; replayFile: string; readings: number; seconds: number; dbBytes: number }> {
  const started = performance.now();
  const run = await replayIntoDatabase(dir, "sync-backlog", Math.ceil(readings / 4));
  return {
    db: run.database,
    replayFile: run.replayFile,
    readings: run.readings,
    seconds: (performance.now() - started) / 1000,
    dbBytes: run.databaseBytes,
  };
}

/** A fresh copy of the prefilled database (every reading pending) for one run. */
function copyBacklog(source: string, target: string): string {
  // A previous run's WAL next to the copy would be replayed into it.
  for (const suffix of ["-wal", "-shm"]) rmSync(target + suffix, { force: true });
  for (const suffix of ["", "-wal"]) {
    if (existsSync(source + suffix)) copyFileSync(source + suffix, target + suffix);
  }
  return target;
}

interface IngestUnderTest {
  process: BenchServer;
  url: string;
  /** Its SQLite file, read here (read-only) after a run. */
  dbPath: string;
}

async function withIngest<T>(
  dbPath: string,
  body: (ingest: IngestUnderTest) => Promise<T>,
): Promise<T> {
  const { server, url } = await BenchServer.ingest(dbPath);
  try {
    return await body({ process: server, url, dbPath });
  } finally {
    await server.stop();
  }
}

/** Rows of the ingest database's readings table: distinct readings (its primary key is the reading id). */
function countStored(dbPath: string): number {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.prepare<[], { n: number }>("SELECT count(*) AS n FROM readings").get()?.n ?? 0;
  } finally {
    db.close();
  }
}

const DRAIN_RUNS = 3;

/** Runs a drain DRAIN_RUNS times; the run with the median rate, with every run's rate. */
async function medianDrain(drain: (run: number) => Promise<DrainFigures>): Promise<DrainFigures> {
  const runs: DrainFigures[] = [];
  for (let run = 0; run < DRAIN_RUNS; run++) runs.push(await drain(run));
  runs.sort((a, b) => a.readingsPerSecond - b.readingsPerSecond);
  const median = runs[Math.floor(runs.length / 2)];
  if (median === undefined) throw new Error("no drain ran");
  return { ...median, runRates: runs.map((run) => run.readingsPerSecond) };
}

/** Where a drain goes: sensord-ingest (durable, SQLite) or the minimal receiver (stores nothing). */
interface DrainEndpoint {
  kind: "ingest" | "receiver";
  server: BenchServer;
  /** Base URL; uploads go to `${url}/ingest`, health is `${url}/healthz`. */
  url: string;
  /** Distinct readings the endpoint holds. */
  distinct: () => Promise<number>;
}

function ingestEndpoint(ingest: IngestUnderTest): DrainEndpoint {
  return {
    kind: "ingest",
    server: ingest.process,
    url: ingest.url,
    distinct: async () => countStored(ingest.dbPath),
  };
}

/**
 * A drain into a fresh minimal receiver (bench/receiver.ts), timed as peers.md
 * timed Fluent Bit ("everything buffered, then the receiver comes up"): the
 * drain child starts against a port nothing listens on, its first upload is
 * refused, then the receiver starts on that port. Clocks: the receiver's
 * return to the last reading it accepted (the Fluent Bit comparison, retry wait
 * included), and the drain child's process start to that same moment. Both are
 * epoch ms on this machine, taken by the receiver and by this process.
 */
async function drainIntoReceiver(
  dir: string,
  backlogDb: string,
  compress: boolean,
): Promise<DrainFigures> {
  const port = await freePort();
  const db = copyBacklog(backlogDb, join(dir, "sync-drain.db"));
  const spawnedAt = Date.now();
  const child = new DrainChild({
    db,
    endpoint: `http://127.0.0.1:${port}/ingest`,
    compress,
    liveEveryMs: 0,
    deadlineMs: DRAIN_DEADLINE_MS,
  });
  let server: BenchServer | null = null;
  try {
    await child.next("started", 30_000);
    const refusedBy = performance.now() + 30_000;
    while (!/upload failed/.test(child.log)) {
      if (performance.now() > refusedBy) throw new Error(`no refused upload:\n${child.log}`);
      await sleep(5);
    }
    const started = await BenchServer.receiver(port);
    server = started.server;
    const endpointCpuBefore = server.cpuSeconds();
    const report = await child.next<DrainReport>("done", DRAIN_DEADLINE_MS + 30_000);
    const ingestCpuSeconds = server.cpuSeconds() - endpointCpuBefore;
    if (report.pendingAtEnd !== 0 || report.uploaded !== report.pendingAtStart) {
      throw new Error(`drain left ${report.pendingAtEnd} readings pending`);
    }
    const times = (await (await fetch(`${started.url}/healthz`)).json()) as {
      listeningAt: number;
      lastReadingAt: number;
    };
    const health = await server.health(started.url);
    // The receiver keeps every id it has seen: what it counts as readings are distinct.
    if (health.readings !== report.pendingAtStart || health.duplicates !== 0) {
      throw new Error(
        `receiver holds ${health.readings} distinct readings (${health.duplicates} duplicates), expected ${report.pendingAtStart}`,
      );
    }
    const seconds = (times.lastReadingAt - times.listeningAt) / 1000;
    return {
      endpoint: "receiver",
      compress,
      readings: report.uploaded,
      requests: report.requests,
      seconds,
      fromProcessStartSeconds: (times.lastReadingAt - spawnedAt) / 1000,
      readingsPerSecond: report.uploaded / seconds,
      wire: null,
      childSeconds: report.seconds,
      sensordPeakRssBytes: report.peakRssBytes,
      ingestPeakRssBytes: server.peakRssBytes(),
      sensordCpuSeconds: report.cpuSeconds,
      ingestCpuSeconds,
      health,
      distinctStored: health.readings,
    };
  } finally {
    child.kill();
    await server?.stop();
  }
}

/** A loopback port free right now, for a receiver that starts after its client. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolveListen) => server.listen(0, "127.0.0.1", resolveListen));
  const address = server.address();
  await new Promise((resolveClose) => server.close(resolveClose));
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return address.port;
}

/**
 * 1. Backfill drain. Through the counting proxy for sensord-ingest (bytes and
 * requests on the wire, timed from the first request byte to the last response
 * byte). The receiver runs go straight to it (drainIntoReceiver): on a 2-core
 * box the proxy's CPU would be taken from the two processes under test.
 */
async function measureDrain(
  dir: string,
  backlogDb: string,
  endpoint: DrainEndpoint,
  compress: boolean,
): Promise<DrainFigures> {
  const proxy = endpoint.kind === "ingest" ? await CountingProxy.start(endpoint.url) : null;
  try {
    const db = copyBacklog(backlogDb, join(dir, "sync-drain.db"));
    const endpointCpuBefore = endpoint.server.cpuSeconds();
    const report = await runDrainChild({
      db,
      endpoint: `${proxy?.url ?? endpoint.url}/ingest`,
      compress,
      liveEveryMs: 0,
      deadlineMs: DRAIN_DEADLINE_MS,
    });
    const wire = proxy?.snapshot() ?? null;
    const ingestCpuSeconds = endpoint.server.cpuSeconds() - endpointCpuBefore;
    if (report.pendingAtEnd !== 0 || report.uploaded !== report.pendingAtStart) {
      throw new Error(`drain left ${report.pendingAtEnd} readings pending`);
    }
    const seconds =
      wire === null
        ? report.seconds
        : ((wire.lastResponseAt ?? 0) - (wire.firstRequestAt ?? 0)) / 1000;
    const health = await endpoint.server.health(endpoint.url);
    const distinctStored = await endpoint.distinct();
    if (distinctStored !== report.pendingAtStart || health.duplicates !== 0) {
      throw new Error(
        `${endpoint.kind} holds ${distinctStored} distinct readings (${health.duplicates} duplicates), expected ${report.pendingAtStart}`,
      );
    }
    return {
      endpoint: endpoint.kind,
      compress,
      readings: report.uploaded,
      requests: wire?.requests ?? report.requests,
      seconds,
      readingsPerSecond: report.uploaded / seconds,
      wire,
      childSeconds: report.seconds,
      sensordPeakRssBytes: report.peakRssBytes,
      ingestPeakRssBytes: endpoint.server.peakRssBytes(),
      sensordCpuSeconds: report.cpuSeconds,
      ingestCpuSeconds,
      health,
      distinctStored,
    };
  } finally {
    await proxy?.close();
  }
}

/** 3. Live readings every 100 ms while a backlog drains; latency = ingest received_at - commit time. */
async function measureLive(
  dir: string,
  backlogDb: string,
  ingest: IngestUnderTest,
): Promise<LiveFigures> {
  const db = copyBacklog(backlogDb, join(dir, "sync-live.db"));
  const report = await runDrainChild({
    db,
    endpoint: `${ingest.url}/ingest`,
    compress: true,
    liveEveryMs: LIVE_EVERY_MS,
    deadlineMs: DRAIN_DEADLINE_MS,
  });
  const ingestDb = new Database(ingest.dbPath, { readonly: true });
  let rows: Array<{ ts: number; received_at: number }>;
  try {
    rows = ingestDb
      .prepare<[], { ts: number; received_at: number }>(
        "SELECT r.ts, b.received_at FROM readings r JOIN series s ON s.id = r.series " +
          "JOIN batches b ON b.seq = r.batch WHERE s.sensor = 'live0' ORDER BY r.ts",
      )
      .all();
  } finally {
    ingestDb.close();
  }
  const during = rows.filter((row) => row.ts <= report.backlogDoneEpochMs);
  return {
    backlog: report.pendingAtStart,
    drainSeconds: report.seconds,
    liveCommitted: report.liveCommitted,
    latenciesMs: during.map((row) => row.received_at - row.ts).sort((a, b) => a - b),
    allArrived: rows.length === report.liveCommitted && report.pendingAtEnd === 0,
  };
}

/** 4. Endpoint down (nothing listening) for `outageSeconds` with the backlog buffered, then back. */
async function measureOutage(
  dir: string,
  backlogDb: string,
  ingest: IngestUnderTest,
  outageSeconds: number,
): Promise<OutageFigures> {
  const proxy = await CountingProxy.start(ingest.url);
  try {
    await proxy.refuse();
    const db = copyBacklog(backlogDb, join(dir, "sync-outage.db"));
    const child = new DrainChild({
      db,
      endpoint: `${proxy.url}/ingest`,
      compress: true,
      liveEveryMs: 0,
      deadlineMs: DRAIN_DEADLINE_MS + outageSeconds * 1000,
    });
    try {
      await child.next("started", 30_000);
      await sleep(outageSeconds * 1000);
      await proxy.reopen();
      const returnedAt = performance.now();
      const report = await child.next<DrainReport>("done", DRAIN_DEADLINE_MS);
      const wire = proxy.snapshot();
      const health = await ingest.process.health(ingest.url);
      const distinctStored = countStored(ingest.dbPath);
      if (distinctStored !== report.pendingAtStart || report.pendingAtEnd !== 0) {
        throw new Error(`after the outage the ingest holds ${distinctStored} readings`);
      }
      const attempts = /uploads work again after (\d+) failed attempt/.exec(child.log)?.[1];
      return {
        outageSeconds,
        backlog: report.pendingAtStart,
        firstRequestSeconds: ((wire.firstRequestAt ?? 0) - returnedAt) / 1000,
        lastReadingSeconds: ((wire.lastResponseAt ?? 0) - returnedAt) / 1000,
        failedAttempts: attempts === undefined ? null : Number(attempts),
        distinctStored,
        duplicates: health.duplicates,
      };
    } finally {
      child.kill();
    }
  } finally {
    await proxy.close();
  }
}

/** The drain child (bench/drain-child.ts), its JSON lines, bounded waits, killed by PID. */
class DrainChild {
  readonly child: ChildProcess;
  private stdout = "";
  private stderr = "";
  private readonly events: Array<{ event: string }> = [];

  constructor(options: DrainOptions) {
    this.child = spawn(process.execPath, [DRAIN_CHILD, JSON.stringify(options)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout?.on("data", (chunk: Buffer) => {
      this.stdout += chunk.toString();
      let newline = this.stdout.indexOf("\n");
      while (newline !== -1) {
        this.events.push(JSON.parse(this.stdout.slice(0, newline)) as { event: string });
        this.stdout = this.stdout.slice(newline + 1);
        newline = this.stdout.indexOf("\n");
      }
    });
    this.child.stderr?.on("data", (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
  }

  get log(): string {
    return this.stderr;
  }

  async next<T extends { event: string }>(event: string, timeoutMs: number): Promise<T> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = this.events.find((item) => item.event === event);
      if (found !== undefined) return found as T;
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`drain child exited before "${event}":\n${this.stderr}`);
      }
      if (performance.now() > deadline) {
        this.kill();
        throw new Error(`drain child: no "${event}" within ${timeoutMs} ms:\n${this.stderr}`);
      }
      await sleep(5);
    }
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }
}

async function runDrainChild(options: DrainOptions): Promise<DrainReport> {
  const child = new DrainChild(options);
  try {
    return await child.next<DrainReport>("done", options.deadlineMs + 30_000);
  } finally {
    child.kill();
  }
}

/**
 * 2. The original way: one POST per document, a new TCP connection each, no
 * gzip, sequential, as Python's `requests.post(url, json=doc, headers={"index": ...})`
 * sends it (its default headers, `json.dumps` separators). `gasesPerDocument`
 * 1: one reading per request; 4: one document per sampling cycle, as the
 * original script did. Bytes are the sockets' own counts (TCP payload).
 */
async function postOriginalWay(
  url: string,
  replayFile: string,
  readings: number,
  gasesPerDocument: 1 | 4,
): Promise<OriginalFigures> {
  const { hostname, port } = new URL(url);
  const lines = readFileSync(replayFile, "utf8").split("\n", Math.ceil(readings / 4));
  const documents: string[] = [];
  const sensors: Record<string, [string, string]> = {
    co: ["0005", "8"],
    no2: ["0006", "9"],
    c2h5oh: ["0007", "27"],
    h2: ["0008", "30"],
  };
  const run = `orig${gasesPerDocument}-${Date.now().toString(36)}`;
  const base = Date.UTC(2021, 8, 3, 9, 14, 49);
  let count = 0;
  for (const [index, line] of lines.entries()) {
    const values = JSON.parse(line) as Record<string, number>;
    const createdtime = new Date(base + index * 1000).toISOString().slice(0, 19).replace("T", " ");
    let gases: Array<[string, unknown]> = [];
    const flush = () => {
      if (gases.length === 0) return;
      documents.push(
        pythonJson([
          ["id", `${run}-${documents.length}`],
          ["groupid", "2"],
          ["gps", "37.61002501514269, 126.99636868892937"],
          ...gases,
        ]),
      );
      gases = [];
    };
    for (const [gas, value] of Object.entries(values)) {
      if (count >= readings) break;
      const [sensorid, sensortype] = sensors[gas] ?? ["0000", "0"];
      gases.push([
        gas,
        [
          ["sensorid", sensorid],
          ["sensortype", sensortype],
          ["value", value.toFixed(2)],
          ["createdtime", createdtime],
        ],
      ]);
      count++;
      if (gases.length >= gasesPerDocument) flush();
    }
    flush();
  }

  const totals = { requestBytes: 0, bodyBytes: 0, responseBytes: 0 };
  const started = performance.now();
  for (const body of documents) {
    const bodyBytes = Buffer.from(body);
    const head =
      "POST /proxyLambda HTTP/1.1\r\n" +
      `Host: ${hostname}:${port}\r\n` +
      "User-Agent: python-requests/2.31.0\r\n" +
      "Accept-Encoding: gzip, deflate\r\n" +
      "Accept: */*\r\n" +
      "Connection: keep-alive\r\n" +
      "index: gasdetect\r\n" +
      `Content-Length: ${bodyBytes.length}\r\n` +
      "Content-Type: application/json\r\n\r\n";
    const result = await postOnce(
      hostname,
      Number(port),
      Buffer.concat([Buffer.from(head), bodyBytes]),
    );
    if (result.status !== 200) throw new Error(`original-way POST answered ${result.status}`);
    totals.requestBytes += result.sent;
    totals.bodyBytes += bodyBytes.length;
    totals.responseBytes += result.received;
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    label: gasesPerDocument === 1 ? "one reading per POST" : "one 4-gas document per POST",
    readings: count,
    requests: documents.length,
    seconds,
    readingsPerSecond: count / seconds,
    ...totals,
    stored: count,
  };
}

/** Python's json.dumps with default separators (", ", ": ") over ordered [key, value] pairs. */
function pythonJson(pairs: Array<[string, unknown]>): string {
  const value = (item: unknown): string =>
    Array.isArray(item) ? pythonJson(item as Array<[string, unknown]>) : JSON.stringify(item);
  return `{${pairs.map(([key, item]) => `${JSON.stringify(key)}: ${value(item)}`).join(", ")}}`;
}

/** One request on a new connection; reads the whole response, then closes (FIN) as requests does. */
function postOnce(
  host: string,
  port: number,
  request: Buffer,
): Promise<{ status: number; sent: number; received: number }> {
  return new Promise((resolvePost, rejectPost) => {
    const socket = connect({ host, port });
    socket.setNoDelay(true);
    socket.setTimeout(10_000, () => {
      socket.destroy();
      rejectPost(new Error("original-way POST timed out"));
    });
    let received = Buffer.alloc(0);
    socket.on("error", rejectPost);
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf("\r\n\r\n");
      if (end === -1) return;
      const head = received.subarray(0, end).toString("latin1");
      const length = Number(/^content-length:\s*(\d+)/im.exec(head)?.[1] ?? 0);
      if (received.length < end + 4 + length) return;
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      socket.setTimeout(0);
      socket.end();
      resolvePost({ status, sent: socket.bytesWritten, received: socket.bytesRead });
    });
    socket.write(request);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolveWait) => setTimeout(resolveWait, ms));
}

/** Fluent Bit 5.1.1's figures from peers.md, quoted beside each row (medians of 3 runs). */
const FLUENT_BIT = {
  header: "Fluent Bit 5.1.1 (`peers.md`)",
  gzipReceiver: "205k records/s (4.87 s)",
  plainReceiver: "438k records/s (2.28 s)",
  durable: "(not measured with a durable receiver)",
  requestsPerMillion: "61-63",
  bytesPerReading: "24.8",
  peakRss: "72-121 MB",
  delivered: "none lost or duplicated",
  outage: "146 s (60 s outage)",
  liveLatency: "not measured",
};

const thousands = (value: number) => `${Math.round(value / 1000)}k`;
/** "1 M" for a whole million, as the README's row labels say it. */
const backlogSize = (readings: number) =>
  readings % 1_000_000 === 0 ? `${readings / 1_000_000} M` : formatCount(readings);
const mibRange = (values: readonly number[], digits: number) => {
  const low = (Math.min(...values) / 1024 / 1024).toFixed(digits);
  const high = (Math.max(...values) / 1024 / 1024).toFixed(digits);
  return low === high ? `${low} MiB` : `${low}-${high} MiB`;
};

/** The Sync tables of bench/README.md: sensord against Fluent Bit, and the original way. */
export function syncReport(result: SyncBenchResult): SectionReport {
  const { drain, original, live, outage, prefill } = result;
  const w = drain.wire;
  if (w === null) throw new Error("the sensord-ingest drain runs through the counting proxy");
  const [gzip, plain] = result.receiverDrains;
  if (gzip === undefined || plain === undefined) {
    throw new Error("the sync bench drains into the receiver twice: gzip, then plain");
  }
  const size = backlogSize(drain.readings);
  const perReading = (bytes: number, readings: number) => (bytes / readings).toFixed(1);
  const runs = (run: DrainFigures) =>
    run.runRates === undefined ? "" : ` [${run.runRates.map(thousands).join(", ")}]`;
  const rate = (run: DrainFigures) =>
    `${formatCount(run.readingsPerSecond)}${runs(run)} readings/s (${run.seconds.toFixed(2)} s)`;
  const fromStart = (run: DrainFigures, unit: string) => {
    const seconds = run.fromProcessStartSeconds ?? Number.NaN;
    return `${formatCount(run.readings / seconds)}${unit} (${seconds.toFixed(2)} s)`;
  };
  const cpuPerMillion = (seconds: number, run: DrainFigures) =>
    `${((seconds / run.readings) * 1_000_000).toFixed(1)} s`;
  const latencies = live.latenciesMs;
  const rows = [
    [
      `drain of ${size} buffered, gzip, to the minimal receiver: receiver's return -> last reading`,
      rate(gzip),
      FLUENT_BIT.gzipReceiver,
    ],
    ["same, drain process start -> last reading", fromStart(gzip, " readings/s"), ""],
    [
      "same, plain: receiver's return -> last reading",
      `${rate(plain)}; from process start ${fromStart(plain, "/s")}`,
      FLUENT_BIT.plainReceiver,
    ],
    [
      `drain of ${size}, gzip, into sensord-ingest (SQLite, idempotent; first request byte -> last response byte)`,
      rate(drain),
      FLUENT_BIT.durable,
    ],
    [
      "requests per million readings",
      `${formatCount((drain.requests / drain.readings) * 1_000_000)} (on ${w.connections} keep-alive connections)`,
      FLUENT_BIT.requestsPerMillion,
    ],
    [
      "bytes on the wire per reading, gzip",
      `${perReading(w.requestBytes, drain.readings)} (request TCP payload incl. HTTP headers; bodies alone ${perReading(w.bodyBytes, drain.readings)}); responses ${perReading(w.responseBytes, drain.readings)}`,
      FLUENT_BIT.bytesPerReading,
    ],
    [
      "peak RSS (`VmHWM`)",
      `drain side ${mibRange(
        [gzip, plain, drain].map((run) => run.sensordPeakRssBytes),
        1,
      )}; ` +
        `sensord-ingest ${formatMib(drain.ingestPeakRssBytes)}; ` +
        `the receiver ${mibRange(
          [gzip, plain].map((run) => run.ingestPeakRssBytes),
          0,
        )}`,
      FLUENT_BIT.peakRss,
    ],
    [
      "delivered",
      `${formatCount(drain.distinctStored)} distinct readings, ${formatCount(drain.health.duplicates)} duplicates, in every run`,
      FLUENT_BIT.delivered,
    ],
    outage === null
      ? ["after an outage", "skipped (BENCH_OUTAGE_SECONDS=0)", FLUENT_BIT.outage]
      : [
          `after a ${outage.outageSeconds} s outage: endpoint's return -> last reading accepted`,
          `${outage.lastReadingSeconds.toFixed(1)} s (first request ${outage.firstRequestSeconds.toFixed(1)} s after the return; ${outage.failedAttempts ?? "?"} failed attempts during the outage)`,
          FLUENT_BIT.outage,
        ],
    [
      `live reading latency while ${size} drain`,
      latencies.length === 0
        ? "none committed during the drain"
        : `p50 ${formatCount(percentile(latencies, 0.5))} ms, p95 ${formatCount(percentile(latencies, 0.95))} ms, max ${formatCount(latencies.at(-1) ?? 0)} ms`,
      FLUENT_BIT.liveLatency,
    ],
    [
      "CPU per million, gzip",
      `drain side ${cpuPerMillion(gzip.sensordCpuSeconds, gzip)} to the receiver, ${cpuPerMillion(drain.sensordCpuSeconds, drain)} to sensord-ingest; ` +
        `the receiver ${cpuPerMillion(gzip.ingestCpuSeconds, gzip)}; sensord-ingest ${cpuPerMillion(drain.ingestCpuSeconds, drain)}`,
      "",
    ],
  ];
  const comparison = {
    header: [
      "",
      "sensord, `SyncWorker` in the `bench/drain-child.ts` harness (median of 3)",
      FLUENT_BIT.header,
    ],
    rows,
  };
  const drainRequestBytes = w.requestBytes / drain.readings;
  const originalWay = {
    header: [
      "",
      "readings/s",
      "request bytes/reading (bodies)",
      "response bytes/reading",
      "sensord-ingest drain vs this",
    ],
    rows: original.map((run) => [
      `${run.label}, ${formatCount(run.readings)} readings`,
      `${formatCount(run.readingsPerSecond)} (${run.seconds.toFixed(1)} s)`,
      `${perReading(run.requestBytes, run.readings)} (${perReading(run.bodyBytes, run.readings)})`,
      perReading(run.responseBytes, run.readings),
      `${(drain.readingsPerSecond / run.readingsPerSecond).toFixed(1)}x the readings/s, ` +
        `${(run.requestBytes / run.readings / drainRequestBytes).toFixed(0)}x fewer request bytes`,
    ]),
  };
  const notes = [
    `backlog: ${formatCount(prefill.readings)} readings written by a real sensord in ${prefill.seconds.toFixed(1)} s; database ${formatMib(prefill.dbBytes)}`,
    `drain into sensord-ingest: ${formatCount(w.requests)} requests on ${w.connections} connection(s), ${formatCount(drain.health.batches)} batches at the ingest`,
    ...[...result.receiverDrains, drain].map(
      (run) =>
        `CPU, ${run.compress ? "gzip" : "plain"} into ${run.endpoint === "ingest" ? "sensord-ingest" : "the receiver"}: ` +
        `drain side ${run.sensordCpuSeconds.toFixed(1)} s, endpoint ${run.ingestCpuSeconds.toFixed(1)} s; ` +
        `the child's own clock ${run.childSeconds.toFixed(2)} s; ${formatCount(run.requests)} requests; ` +
        `peak RSS ${formatMib(run.sensordPeakRssBytes)} / ${formatMib(run.ingestPeakRssBytes)}`,
    ),
    `live: one reading every ${LIVE_EVERY_MS} ms while ${formatCount(live.backlog)} drained (${live.drainSeconds.toFixed(1)} s): ` +
      `${latencies.length} committed during the drain, ${formatCount(live.liveCommitted)} in all, all arrived: ${live.allArrived}`,
    ...(outage === null
      ? []
      : [
          `outage: ${formatCount(outage.distinctStored)} distinct readings stored after it, ${outage.duplicates} duplicates`,
        ]),
  ];
  return {
    blocks: [
      { name: "sync", tables: [comparison] },
      { name: "sync-original", tables: [originalWay] },
    ],
    notes,
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dir = mkdtempSync(join(tmpdir(), "sensord-bench-sync-"));
  try {
    printReport(syncReport(await benchSync(dir)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
