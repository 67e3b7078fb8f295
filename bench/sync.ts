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

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const count = (value: number) => Math.round(value).toLocaleString("en-US");

export function printSync(result: SyncBenchResult): void {
  const { drain, original, live, outage, prefill } = result;
  const perReading = (bytes: number, readings: number) => (bytes / readings).toFixed(1);
  console.log("## Sync: backlog drain, the original way, live latency, outage (loopback)");
  console.log(
    `backlog: ${count(prefill.readings)} readings written by a real sensord (replay driver, interval 0s, no [sync]) in ${prefill.seconds.toFixed(1)} s; database ${mib(prefill.dbBytes)}`,
  );
  console.log(
    "drain side: the sensord binary (dist/daemon/main.js) over a copy of that database, a 1 Hz sim sensor (live0) sampling,",
  );
  console.log(
    "  [sync] defaults (live batches of 1000 / 256KiB, backlog batches up to 2500 / 1MiB, gzip level 1) except max_rate 1,000,000",
  );
  console.log(
    "path: sensord -> the minimal receiver (bench/receiver.ts, a child process: gunzip, JSON.parse, dedupe ids in memory, answer 200;",
  );
  console.log(
    "  started on a port sensord's first upload was refused on, as peers.md's runs); or sensord -> counting TCP proxy (in the bench",
  );
  console.log(
    "  process) -> sensord-ingest (SQLite, idempotent; bytes and requests counted at the proxy). Each drain: median of 3 runs.",
  );
  console.log("");
  const brackets = (run: DrainFigures) =>
    run.runRates === undefined
      ? ""
      : ` [${run.runRates.map((value) => `${Math.round(value / 1000)}k`).join(", ")}]`;
  const receiverRate = (run: DrainFigures) =>
    `${count(run.readingsPerSecond)} readings/s, return -> last (${run.seconds.toFixed(2)} s)${brackets(run)}`;
  const startRate = (run: DrainFigures) => {
    const seconds = run.fromProcessStartSeconds ?? Number.NaN;
    const spread =
      run.runStartRates === undefined
        ? ""
        : ` [${run.runStartRates.map((value) => `${Math.round(value / 1000)}k`).join(", ")}]`;
    return `${count(run.readings / seconds)} readings/s, sensord start -> last (${seconds.toFixed(2)} s)${spread}`;
  };
  const rows: Array<[string, string, string]> = [];
  const [receiverGzip, receiverPlain] = result.receiverDrains;
  if (receiverGzip !== undefined) {
    rows.push(
      ["drain, gzip, minimal receiver", receiverRate(receiverGzip), "205k records/s (4.87 s)"],
      ["  same, from sensord's start", startRate(receiverGzip), "(not measured)"],
      [
        "  requests, CPU, peak RSS",
        `${count(receiverGzip.requests)} requests; sensord ${receiverGzip.sensordCpuSeconds.toFixed(1)} s CPU since its start, ` +
          `receiver ${receiverGzip.ingestCpuSeconds.toFixed(1)} s; sensord ${mib(receiverGzip.sensordPeakRssBytes)}`,
        "61-63 requests; 72-121 MB",
      ],
    );
  }
  if (receiverPlain !== undefined) {
    rows.push(
      ["drain, plain, minimal receiver", receiverRate(receiverPlain), "438k records/s (2.28 s)"],
      ["  same, from sensord's start", startRate(receiverPlain), "(not measured)"],
    );
  }
  if (drain?.wire != null) {
    const w = drain.wire;
    rows.push(
      [
        "drain, gzip, into sensord-ingest",
        `${count(drain.readingsPerSecond)} readings/s, first request byte -> last response (${drain.seconds.toFixed(2)} s)${brackets(drain)}`,
        "(no durable receiver measured)",
      ],
      ["requests per million", count((drain.requests / drain.readings) * 1_000_000), "61-63"],
      [
        "bytes on the wire per reading",
        `${perReading(w.requestBytes, drain.readings)} (requests incl. HTTP headers; bodies ${perReading(w.bodyBytes, drain.readings)}), responses ${perReading(w.responseBytes, drain.readings)}`,
        "24.8",
      ],
      [
        "delivered (sensord-ingest)",
        `${count(drain.distinctStored)} distinct backlog readings, ${count(drain.health.duplicates)} duplicates`,
        "none lost or duplicated",
      ],
    );
  }
  if (live !== null) {
    rows.push([
      "live latency during the drain",
      live.latenciesMs.length === 0
        ? "none sampled during the drains"
        : `p50 ${count(percentile(live.latenciesMs, 0.5))} ms, p95 ${count(percentile(live.latenciesMs, 0.95))} ms, max ${count(live.latenciesMs.at(-1) ?? 0)} ms (${live.latenciesMs.length} readings, ${live.runs} gzip runs)`,
      "not measured",
    ]);
  }
  if (outage !== null) {
    const median = outage.runs[Math.floor(outage.runs.length / 2)];
    rows.push([
      `${outage.outageSeconds} s outage: return -> last`,
      median === undefined
        ? "no run"
        : `${median.lastReadingSeconds.toFixed(1)} s (first request after ${median.firstRequestSeconds.toFixed(2)} s) ` +
          `[${outage.runs.map((run) => run.lastReadingSeconds.toFixed(1)).join(", ")} s]`,
      "146 s (60 s outage)",
    ]);
  }
  console.log(`${"".padEnd(32)}${"sensord (the binary)".padEnd(64)}  Fluent Bit 5.1.1 (peers.md)`);
  for (const [label, ours, theirs] of rows) {
    // Two spaces at least: some rows are longer than the column.
    console.log(`${label.padEnd(32)}${ours.padEnd(64)}  ${theirs}`);
  }
  console.log("");
  for (const run of [...result.receiverDrains, ...(drain === null ? [] : [drain])]) {
    console.log(
      `  ${run.compress ? "gzip" : "plain"} into ${run.endpoint === "ingest" ? "sensord-ingest" : "the receiver"}: ` +
        `sensord ${run.sensordCpuSeconds.toFixed(1)} s CPU (since its start, both threads), endpoint ${run.ingestCpuSeconds.toFixed(1)} s; ` +
        `${count(run.requests)} requests; peak RSS ${mib(run.sensordPeakRssBytes)} / ${mib(run.ingestPeakRssBytes)}; ` +
        `${count(run.distinctStored)} distinct backlog readings, ${run.health.duplicates} duplicates`,
    );
  }
  for (const run of original) {
    console.log(
      `original way, ${run.label}: ${count(run.readings)} readings in ${count(run.requests)} requests, ` +
        `${count(run.readingsPerSecond)} readings/s (${run.seconds.toFixed(1)} s), ` +
        `${perReading(run.requestBytes, run.readings)} request bytes/reading (bodies ${perReading(run.bodyBytes, run.readings)}; ` +
        `responses ${perReading(run.responseBytes, run.readings)})`,
    );
    if (drain?.wire != null) {
      console.log(
        `  batch drain vs this: ${(drain.readingsPerSecond / run.readingsPerSecond).toFixed(1)}x the readings/s, ` +
          `${(run.requestBytes / run.readings / (drain.wire.requestBytes / drain.readings)).toFixed(1)}x fewer request bytes per reading`,
      );
    }
  }
  if (outage !== null) {
    console.log(
      `outage: ${count(outage.backlog)} readings buffered, nothing listening for ${outage.outageSeconds} s, then the receiver; ` +
        `failed attempts per run ${outage.runs.map((run) => run.failedAttempts ?? "?").join(", ")} ` +
        "(TCP probes every 200-400 ms not counted); every run delivered every reading once",
    );
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dir = mkdtempSync(join(tmpdir(), "sensord-bench-sync-"));
  try {
    printSync(await benchSync(dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
