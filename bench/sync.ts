import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import Database from "better-sqlite3";
import { CountingProxy, type WireCounts } from "./counting-proxy.js";
import { BenchDaemon } from "./daemon-process.js";
import { percentile } from "./fixtures.js";
import { BenchServer, type IngestHealth } from "./ingest-process.js";
import { replayIntoDatabase } from "./replay-run.js";
import { formatCount, formatMib, printReport, type SectionReport } from "./report.js";

/**
 * The sync benchmark (`## Sync` in bench/README.md), on loopback with real
 * processes: a prefilled sensord database drained by the sensord binary
 * (bench/daemon-process.ts) into the minimal receiver (bench/receiver.ts) and
 * into the `sensord-ingest` binary, the latter through a counting TCP proxy in
 * this process.
 *
 * BENCH_SYNC_READINGS (backlog, default 1,000,000), BENCH_SYNC_ORIGINAL
 * (readings posted the original way, default 10,000), BENCH_OUTAGE_SECONDS
 * (default 60; 0 skips the outage runs) and BENCH_SYNC_PARTS (comma-separated,
 * of receiver,ingest,original,outage; default all) shrink a run;
 * BENCH_SYNC_BACKLOG_BATCH sets `backlog_batch_max_readings` for paired trials.
 * `node dist/bench/sync.js` runs this part alone.
 */

/** BENCH_SYNC_BACKLOG_BATCH: `backlog_batch_max_readings` for paired trials (default: sensord's). */
const BACKLOG_BATCH_READINGS = process.env.BENCH_SYNC_BACKLOG_BATCH;
/** The wait for any one drain, on top of the outage. */
const DRAIN_DEADLINE_MS = 150_000;

export interface DrainFigures {
  /** Every run's readings/s, slowest first, when this is the median of several. */
  runRates?: number[];
  /** The receiver runs: every run's rate from sensord's process start, slowest first. */
  runStartRates?: number[];
  endpoint: "ingest" | "receiver";
  compress: boolean;
  readings: number;
  requests: number;
  /**
   * sensord-ingest: first request byte to last response byte, at the proxy.
   * The receiver: from its return (it starts listening while sensord, already
   * running, is backing off from a refused connection) to the last backlog
   * reading it accepted, as peers.md timed Fluent Bit.
   */
  seconds: number;
  /** The receiver runs: from spawning the sensord process to the last backlog reading accepted. */
  fromProcessStartSeconds?: number;
  readingsPerSecond: number;
  /** null when the drain ran without the counting proxy (the receiver runs). */
  wire: WireCounts | null;
  sensordPeakRssBytes: number;
  /** The endpoint's (sensord-ingest's or the receiver's). */
  ingestPeakRssBytes: number;
  /** CPU seconds: sensord from its process start (every thread), the endpoint over the drain. */
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
  /** Receiver runs the latencies come from. */
  runs: number;
  /** Latencies (ms, sorted) of the live readings sampled while a backlog drained: arrival - sample time. */
  latenciesMs: number[];
}

export interface OutageFigures {
  outageSeconds: number;
  backlog: number;
  /** Every run, slowest recovery last; the median is the middle one. */
  runs: Array<{
    /** From the endpoint's return to the first request reaching it. */
    firstRequestSeconds: number;
    /** From the endpoint's return until the last backlog reading was accepted. */
    lastReadingSeconds: number;
    /** Upload attempts that failed during the outage (probes not counted). */
    failedAttempts: number | null;
  }>;
}

export interface SyncBenchResult {
  prefill: { readings: number; seconds: number; dbBytes: number };
  /** The backlog into the minimal receiver: gzip, then plain (peers.md's workload). */
  receiverDrains: DrainFigures[];
  /** The backlog into sensord-ingest (durable, idempotent), through the counting proxy. */
  drain: DrainFigures | null;
  original: OriginalFigures[];
  live: LiveFigures | null;
  outage: OutageFigures | null;
}

export async function benchSync(dir: string): Promise<SyncBenchResult> {
  const backlog = Number(process.env.BENCH_SYNC_READINGS ?? 1_000_000);
  const originalCount = Number(process.env.BENCH_SYNC_ORIGINAL ?? 10_000);
  const outageSeconds = Number(process.env.BENCH_OUTAGE_SECONDS ?? 60);
  const parts = new Set(
    (process.env.BENCH_SYNC_PARTS ?? "receiver,ingest,original,outage").split(","),
  );
  const prefill = await prefillBacklog(dir, backlog);

  // Median of DRAIN_RUNS, as peers.md's Fluent Bit figures are: a 2-core VM's
  // single runs vary by tens of percent.
  const gzipRuns: Array<Awaited<ReturnType<typeof drainIntoReceiver>>> = [];
  const receiverDrains: DrainFigures[] = [];
  if (parts.has("receiver")) {
    receiverDrains.push(
      await medianDrain(async () => {
        const run = await drainIntoReceiver(dir, prefill.db, prefill.readings, true);
        gzipRuns.push(run);
        return run;
      }),
      await medianDrain(() => drainIntoReceiver(dir, prefill.db, prefill.readings, false)),
    );
  }
  const drain = parts.has("ingest")
    ? await medianDrain((run) =>
        withIngest(join(dir, `sync-ingest-drain-${run}.db`), (ingest) =>
          measureIngestDrain(dir, prefill.db, prefill.readings, ingest),
        ),
      )
    : null;
  const original = parts.has("original")
    ? await withIngest(join(dir, "sync-ingest-original.db"), async (ingest) => {
        const runs = [
          await postOriginalWay(ingest.url, prefill.replayFile, originalCount, 1),
          await postOriginalWay(ingest.url, prefill.replayFile, originalCount, 4),
        ];
        const after = await ingest.process.health(ingest.url);
        const expected = runs.reduce((sum, run) => sum + run.readings, 0);
        if (after.readings !== expected) {
          throw new Error(`ingest holds ${after.readings} readings, expected ${expected}`);
        }
        return runs;
      })
    : [];
  const outage =
    outageSeconds > 0 && parts.has("outage")
      ? await measureOutage(dir, prefill.db, prefill.readings, outageSeconds)
      : null;
  return {
    prefill: { readings: prefill.readings, seconds: prefill.seconds, dbBytes: prefill.dbBytes },
    receiverDrains,
    drain,
    original,
    live: gzipRuns.length === 0 ? null : liveFigures(gzipRuns),
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

const DRAIN_RUNS = 3;

/** Runs a drain DRAIN_RUNS times; the run with the median rate, with every run's rate. */
async function medianDrain(drain: (run: number) => Promise<DrainFigures>): Promise<DrainFigures> {
  const runs: DrainFigures[] = [];
  for (let run = 0; run < DRAIN_RUNS; run++) runs.push(await drain(run));
  runs.sort((a, b) => a.readingsPerSecond - b.readingsPerSecond);
  const median = runs[Math.floor(runs.length / 2)];
  if (median === undefined) throw new Error("no drain ran");
  const startRates = runs
    .flatMap((run) =>
      run.fromProcessStartSeconds === undefined ? [] : [run.readings / run.fromProcessStartSeconds],
    )
    .sort((a, b) => a - b);
  return {
    ...median,
    runRates: runs.map((run) => run.readingsPerSecond),
    ...(startRates.length === 0 ? {} : { runStartRates: startRates }),
  };
}

/** The sim sensor that samples at 1 Hz while a backlog drains: its readings are the live ones. */
const LIVE_SENSOR = "live0";
/** The sensor bench/replay-run.ts wrote the backlog with. */
const BACKLOG_SENSOR = "replay0";

/**
 * A real sensord (the binary) over a copy of the backlog: a 1 Hz sim sensor
 * ("live0"), `[sync]` at `endpoint` with the defaults except `max_rate`
 * (1,000,000: the default 20,000/s is a per-Pi politeness cap towards a
 * shared endpoint, not a limit of the code) and `compress`; control socket
 * and HTTP server off (nothing else listens). Each start drains at once: a
 * cycle runs at process start, whatever the cron schedule.
 */
function startSensord(dir: string, db: string, endpoint: string, compress: boolean): BenchDaemon {
  const config = join(dir, "sync-drain.toml");
  writeFileSync(
    config,
    [
      "[device]",
      'id = "bench-pi"',
      'group = "2"',
      'gps = "37.61002501514269, 126.99636868892937"',
      'timezone = "Asia/Seoul"',
      "[storage]",
      `path = ${JSON.stringify(db)}`,
      'max_bytes = "4GiB"',
      "[[sensors]]",
      `id = "${LIVE_SENSOR}"`,
      'driver = "sim"',
      'interval = "1s"',
      "[control]",
      'socket = ""',
      "[http]",
      'listen = ""',
      "[sync]",
      `endpoint = ${JSON.stringify(endpoint)}`,
      `compress = ${compress}`,
      "max_rate = 1000000",
      ...(BACKLOG_BATCH_READINGS === undefined
        ? []
        : [`backlog_batch_max_readings = ${BACKLOG_BATCH_READINGS}`]),
      "",
    ].join("\n"),
  );
  return new BenchDaemon(config);
}

/** bench/receiver.ts's /healthz. */
interface ReceiverTotals extends IngestHealth {
  listeningAt: number;
  firstRequestAt: number;
  sensors: Record<string, { readings: number; lastAt: number } | undefined>;
  /** [arrival, reading ts] (epoch ms) of every live reading. */
  live: Array<[number, number]>;
}

async function receiverTotals(url: string): Promise<ReceiverTotals> {
  return (await (await fetch(`${url}/healthz`)).json()) as ReceiverTotals;
}

/** Polls the receiver until every backlog reading has arrived (or the deadline passes). */
async function waitForBacklogAtReceiver(url: string, backlog: number): Promise<ReceiverTotals> {
  const deadline = performance.now() + DRAIN_DEADLINE_MS;
  for (;;) {
    const totals = await receiverTotals(url);
    if ((totals.sensors[BACKLOG_SENSOR]?.readings ?? 0) >= backlog) return totals;
    if (performance.now() > deadline) {
      throw new Error(
        `the receiver has ${totals.sensors[BACKLOG_SENSOR]?.readings ?? 0} of ${backlog} backlog readings at the deadline`,
      );
    }
    await sleep(50);
  }
}

/**
 * The sensord binary draining the backlog into a fresh minimal receiver
 * (bench/receiver.ts), timed as peers.md timed Fluent Bit ("everything
 * buffered, then the receiver comes up"): sensord starts against a port
 * nothing listens on, its first upload is refused, `outageMs` pass (0: none),
 * then the receiver starts on that port. Clocks: the receiver's return to the
 * last backlog reading it accepted (retry wait included), and sensord's
 * process start to that same moment. Epoch ms on this machine, taken by the
 * receiver and by this process.
 */
async function drainIntoReceiver(
  dir: string,
  backlogDb: string,
  backlog: number,
  compress: boolean,
  outageMs = 0,
): Promise<DrainFigures & { totals: ReceiverTotals; log: string }> {
  const port = await freePort();
  const db = copyBacklog(backlogDb, join(dir, "sync-drain.db"));
  const daemon = startSensord(dir, db, `http://127.0.0.1:${port}/ingest`, compress);
  let server: BenchServer | null = null;
  try {
    await daemon.waitForLog(/upload failed/, 30_000);
    if (outageMs > 0) await sleep(outageMs);
    const started = await BenchServer.receiver(port, LIVE_SENSOR);
    server = started.server;
    const endpointCpuBefore = server.cpuSeconds();
    const totals = await waitForBacklogAtReceiver(started.url, backlog);
    const sensordCpuSeconds = daemon.cpuSeconds();
    const sensordPeakRssBytes = daemon.peakRssBytes();
    const ingestCpuSeconds = server.cpuSeconds() - endpointCpuBefore;
    const lastAt = totals.sensors[BACKLOG_SENSOR]?.lastAt ?? 0;
    if (totals.sensors[BACKLOG_SENSOR]?.readings !== backlog || totals.duplicates !== 0) {
      throw new Error(
        `receiver holds ${totals.sensors[BACKLOG_SENSOR]?.readings} backlog readings (${totals.duplicates} duplicates), expected ${backlog}`,
      );
    }
    await daemon.stop();
    const seconds = (lastAt - totals.listeningAt) / 1000;
    return {
      endpoint: "receiver",
      compress,
      readings: backlog,
      requests: totals.batches,
      seconds,
      fromProcessStartSeconds: (lastAt - daemon.spawnedAt) / 1000,
      readingsPerSecond: backlog / seconds,
      wire: null,
      sensordPeakRssBytes,
      ingestPeakRssBytes: server.peakRssBytes(),
      sensordCpuSeconds,
      ingestCpuSeconds,
      health: { readings: totals.readings, duplicates: totals.duplicates, batches: totals.batches },
      distinctStored: totals.sensors[BACKLOG_SENSOR]?.readings ?? 0,
      totals,
      log: daemon.log,
    };
  } finally {
    daemon.kill();
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

/** Backlog readings sensord-ingest has stored (its readings' primary key is the reading id). */
function countBacklogStored(dbPath: string): number {
  const db = new Database(dbPath, { readonly: true });
  try {
    return (
      db
        .prepare<[string], { n: number }>(
          "SELECT count(*) AS n FROM readings r JOIN series s ON s.id = r.series WHERE s.sensor = ?",
        )
        .get(BACKLOG_SENSOR)?.n ?? 0
    );
  } finally {
    db.close();
  }
}

/**
 * 1. The sensord binary draining the backlog into sensord-ingest through the
 * counting proxy (bytes and requests on the wire, timed from the first request
 * byte to the last response byte). The receiver runs go straight to it
 * (drainIntoReceiver): on a 2-core box the proxy's CPU would be taken from the
 * two processes under test.
 */
async function measureIngestDrain(
  dir: string,
  backlogDb: string,
  backlog: number,
  ingest: IngestUnderTest,
): Promise<DrainFigures> {
  const proxy = await CountingProxy.start(ingest.url);
  const db = copyBacklog(backlogDb, join(dir, "sync-drain.db"));
  const endpointCpuBefore = ingest.process.cpuSeconds();
  const daemon = startSensord(dir, db, `${proxy.url}/ingest`, true);
  try {
    const deadline = performance.now() + DRAIN_DEADLINE_MS;
    // The health count includes the live sensor's readings: confirm with the database once it is high enough.
    while (
      (await ingest.process.health(ingest.url)).readings < backlog ||
      countBacklogStored(ingest.dbPath) < backlog
    ) {
      if (performance.now() > deadline) throw new Error(`ingest drain not done:\n${daemon.log}`);
      await sleep(50);
    }
    const wire = proxy.snapshot();
    const sensordCpuSeconds = daemon.cpuSeconds();
    const sensordPeakRssBytes = daemon.peakRssBytes();
    const ingestCpuSeconds = ingest.process.cpuSeconds() - endpointCpuBefore;
    await daemon.stop();
    const health = await ingest.process.health(ingest.url);
    const distinctStored = countBacklogStored(ingest.dbPath);
    if (distinctStored !== backlog || health.duplicates !== 0) {
      throw new Error(
        `sensord-ingest holds ${distinctStored} backlog readings (${health.duplicates} duplicates), expected ${backlog}`,
      );
    }
    const seconds = ((wire.lastResponseAt ?? 0) - (wire.firstRequestAt ?? 0)) / 1000;
    return {
      endpoint: "ingest",
      compress: true,
      readings: backlog,
      requests: wire.requests,
      seconds,
      readingsPerSecond: backlog / seconds,
      wire,
      sensordPeakRssBytes,
      ingestPeakRssBytes: ingest.process.peakRssBytes(),
      sensordCpuSeconds,
      ingestCpuSeconds,
      health,
      distinctStored,
    };
  } finally {
    daemon.kill();
    await proxy.close();
  }
}

/** Live readings committed while the backlog drained, from the receiver runs: arrival - sample time. */
function liveFigures(runs: Array<{ totals: ReceiverTotals }>): LiveFigures {
  const latenciesMs: number[] = [];
  for (const { totals } of runs) {
    const done = totals.sensors[BACKLOG_SENSOR]?.lastAt ?? 0;
    for (const [arrival, ts] of totals.live) {
      if (ts >= totals.listeningAt && ts <= done) latenciesMs.push(arrival - ts);
    }
  }
  return { runs: runs.length, latenciesMs: latenciesMs.sort((a, b) => a - b) };
}

/**
 * 4. Nothing listening for `outageSeconds` with the backlog buffered (sensord
 * running, its uploads refused), then the minimal receiver returns on that
 * port: return -> first request, return -> last backlog reading. Three runs.
 */
async function measureOutage(
  dir: string,
  backlogDb: string,
  backlog: number,
  outageSeconds: number,
): Promise<OutageFigures> {
  const runs: OutageFigures["runs"] = [];
  for (let run = 0; run < DRAIN_RUNS; run++) {
    const drained = await drainIntoReceiver(dir, backlogDb, backlog, true, outageSeconds * 1000);
    const attempts = /uploads work again after (\d+) failed attempt/.exec(drained.log)?.[1];
    runs.push({
      firstRequestSeconds: (drained.totals.firstRequestAt - drained.totals.listeningAt) / 1000,
      lastReadingSeconds: drained.seconds,
      failedAttempts: attempts === undefined ? null : Number(attempts),
    });
  }
  runs.sort((a, b) => a.lastReadingSeconds - b.lastReadingSeconds);
  return { outageSeconds, backlog, runs };
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
  if (live === null || outage === null) {
    throw new Error("the README's sync table needs every part: run without BENCH_SYNC_PARTS");
  }
  const w = drain?.wire;
  if (drain === null || w == null) {
    throw new Error("the sensord-ingest drain runs through the counting proxy");
  }
  const [gzip, plain] = result.receiverDrains;
  if (gzip === undefined || plain === undefined) {
    throw new Error("the sync bench drains into the receiver twice: gzip, then plain");
  }
  const size = backlogSize(drain.readings);
  const perReading = (bytes: number, readings: number) => (bytes / readings).toFixed(1);
  const spread = (rates: number[] | undefined) =>
    rates === undefined ? "" : ` [${rates.map(thousands).join(", ")}]`;
  const rate = (run: DrainFigures) =>
    `${formatCount(run.readingsPerSecond)}${spread(run.runRates)} readings/s (${run.seconds.toFixed(2)} s)`;
  const fromStart = (run: DrainFigures) => {
    const seconds = run.fromProcessStartSeconds ?? Number.NaN;
    return `${formatCount(run.readings / seconds)}${spread(run.runStartRates)} readings/s (${seconds.toFixed(2)} s)`;
  };
  const cpuPerMillion = (seconds: number, run: DrainFigures) =>
    `${((seconds / run.readings) * 1_000_000).toFixed(1)} s`;
  const latencies = live.latenciesMs;
  const recovery = outage.runs[Math.floor(outage.runs.length / 2)];
  const rows = [
    [
      `drain of ${size} buffered, gzip, to the minimal receiver: receiver's return -> last reading`,
      rate(gzip),
      FLUENT_BIT.gzipReceiver,
    ],
    ["same, sensord's process start -> last reading (goal >= 250,000/s)", fromStart(gzip), ""],
    [
      "same, plain: receiver's return -> last reading",
      `${rate(plain)}; from sensord's start ${fromStart(plain)}`,
      FLUENT_BIT.plainReceiver,
    ],
    [
      `drain of ${size}, gzip, into sensord-ingest (SQLite, idempotent; first request byte -> last response byte)`,
      rate(drain),
      FLUENT_BIT.durable,
    ],
    [
      "requests per million readings, gzip, to the receiver",
      formatCount((gzip.requests / gzip.readings) * 1_000_000),
      FLUENT_BIT.requestsPerMillion,
    ],
    [
      "bytes on the wire per reading, gzip",
      `${perReading(w.requestBytes, drain.readings)} (request TCP payload incl. HTTP headers; bodies alone ${perReading(w.bodyBytes, drain.readings)}); responses ${perReading(w.responseBytes, drain.readings)}`,
      FLUENT_BIT.bytesPerReading,
    ],
    [
      "peak RSS (`VmHWM`)",
      `sensord ${mibRange(
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
    [
      `after a ${outage.outageSeconds} s outage: endpoint's return -> last reading accepted (goal <= 3 s)`,
      recovery === undefined
        ? "no run"
        : `${recovery.lastReadingSeconds.toFixed(1)} s [${outage.runs.map((run) => run.lastReadingSeconds.toFixed(1)).join(", ")}] (first request ${recovery.firstRequestSeconds.toFixed(2)} s after the return)`,
      FLUENT_BIT.outage,
    ],
    [
      `live reading latency while ${size} drain (sample -> receiver)`,
      latencies.length === 0
        ? "none sampled during the drains"
        : `p50 ${formatCount(percentile(latencies, 0.5))} ms, p95 ${formatCount(percentile(latencies, 0.95))} ms, max ${formatCount(latencies.at(-1) ?? 0)} ms`,
      FLUENT_BIT.liveLatency,
    ],
    [
      "CPU per million, gzip",
      `sensord ${cpuPerMillion(gzip.sensordCpuSeconds, gzip)} to the receiver, ${cpuPerMillion(drain.sensordCpuSeconds, drain)} to sensord-ingest (from its start, every thread); ` +
        `the receiver ${cpuPerMillion(gzip.ingestCpuSeconds, gzip)}; sensord-ingest ${cpuPerMillion(drain.ingestCpuSeconds, drain)}`,
      "",
    ],
  ];
  const comparison = {
    header: ["", "sensord, the binary (`dist/daemon/main.js`; median of 3)", FLUENT_BIT.header],
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
    "drain side: the sensord binary over a copy of that database, a 1 Hz sim sensor (live0) sampling, [sync] defaults " +
      "(live batches of 1000 / 256KiB, backlog batches up to 2500 / 1MiB, gzip level 1) except max_rate 1,000,000; " +
      "the receiver starts on a port sensord's first upload was refused on, as peers.md's runs",
    `drain into sensord-ingest: ${formatCount(w.requests)} requests on ${w.connections} connection(s), ${formatCount(drain.health.batches)} batches at the ingest`,
    ...[...result.receiverDrains, drain].map(
      (run) =>
        `${run.compress ? "gzip" : "plain"} into ${run.endpoint === "ingest" ? "sensord-ingest" : "the receiver"}: ` +
        `sensord ${run.sensordCpuSeconds.toFixed(1)} s CPU (since its start, every thread), endpoint ${run.ingestCpuSeconds.toFixed(1)} s; ` +
        `${formatCount(run.requests)} requests; peak RSS ${formatMib(run.sensordPeakRssBytes)} / ${formatMib(run.ingestPeakRssBytes)}; ` +
        `${formatCount(run.distinctStored)} distinct backlog readings, ${run.health.duplicates} duplicates`,
    ),
    `live: ${latencies.length} live readings sampled during ${live.runs} gzip drains`,
    `outage: ${formatCount(outage.backlog)} readings buffered, nothing listening for ${outage.outageSeconds} s, then the receiver; ` +
      `failed attempts per run ${outage.runs.map((run) => run.failedAttempts ?? "?").join(", ")} ` +
      "(TCP probes every 200-400 ms not counted); every run delivered every reading once",
  ];
  return {
    blocks: [
      { name: "sync", tables: [comparison] },
      { name: "sync-original", tables: [originalWay] },
    ],
    notes,
  };
}

/**
 * A run of some parts (BENCH_SYNC_PARTS) for a trial: each drain's figures,
 * one line each, instead of the README's tables, which need every part.
 */
function partialSummary(result: SyncBenchResult): string[] {
  const drains = [...result.receiverDrains, ...(result.drain === null ? [] : [result.drain])];
  return [
    `backlog: ${formatCount(result.prefill.readings)} readings`,
    ...drains.map(
      (run) =>
        `${run.compress ? "gzip" : "plain"} into ${run.endpoint}: ${formatCount(Math.round(run.readingsPerSecond))} readings/s ` +
        `[${(run.runRates ?? []).map((rate) => formatCount(Math.round(rate))).join(", ")}]` +
        (run.runStartRates === undefined
          ? ""
          : `, from sensord's start [${run.runStartRates.map((rate) => formatCount(Math.round(rate))).join(", ")}]`) +
        `; ${formatCount(run.requests)} requests; sensord peak RSS ${formatMib(run.sensordPeakRssBytes)}, ` +
        `${run.sensordCpuSeconds.toFixed(1)} s CPU; ${formatCount(run.distinctStored)} distinct, ${run.health.duplicates} duplicates`,
    ),
    ...(result.outage === null
      ? []
      : [
          `outage ${result.outage.outageSeconds} s: last reading ${result.outage.runs.map((run) => run.lastReadingSeconds.toFixed(2)).join(", ")} s after the return`,
        ]),
  ];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dir = mkdtempSync(join(tmpdir(), "sensord-bench-sync-"));
  try {
    const result = await benchSync(dir);
    if (process.env.BENCH_SYNC_PARTS === undefined) printReport(syncReport(result));
    else console.log(partialSummary(result).join("\n"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
