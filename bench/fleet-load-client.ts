import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import { Pool } from "undici";
import { GasSimulation } from "../daemon/drivers/sim.js";
import type { BatchDevice } from "../schemas/batch.js";
import { newIdPrefix, readingId } from "../schemas/ids.js";
import { DEFAULT_UNIT } from "../schemas/vocabulary.js";
import { type BatchItem, batchJson, contentId, GZIP_LEVEL } from "../sync/batch.js";
import { percentile } from "./fixtures.js";

/**
 * The load generator of the fleet benchmark (bench/fleet-load.ts), in a
 * process of its own so its CPU is not counted in the ingest's and can be
 * reported on its own.
 *
 * argv[2]: JSON FleetClientOptions. It builds and gzips every body first,
 * prints one JSON line `{"event":"ready",...}` (FleetClientReady), waits for a
 * line on stdin, then sends, and prints `{"event":"done",...}`
 * (FleetClientReport). Errors go to stderr, exit code 1.
 */
export interface FleetClientOptions {
  /** Base URLs (`http://127.0.0.1:PORT`); request n goes to targets[n % length]. */
  targets: string[];
  devices: number;
  /** Batches per device: one minute of 4 gases at 1 Hz each. */
  minutes: number;
  /** Requests in flight in total, over all targets. */
  concurrency: number;
  /** Share of the batches sent a second time under a new idempotency key. */
  resendFraction: number;
  /** Seeds the simulated values and the send order. */
  seed: number;
}

export interface FleetClientReady {
  event: "ready";
  batches: number;
  resends: number;
  /** Readings in all requests, resends included. */
  readingsSent: number;
  distinctReadings: number;
  resentReadings: number;
  /** gzip'd bodies, all requests. */
  bodyBytes: number;
  /** JSON before gzip, all requests. */
  jsonBytes: number;
  buildSeconds: number;
  buildCpuSeconds: number;
}

export interface FleetClientReport {
  event: "done";
  /** Wall time of the timed phase: the go line to the last answer. */
  seconds: number;
  /** HTTP requests made, retries included. */
  requests: number;
  /** Attempts repeated after a 503 (after its Retry-After) or a connection error. */
  retries503: number;
  retriesNetwork: number;
  ok200: number;
  /** Final non-200 answers (or errors after the last attempt), by `<status> <code>`. */
  failures: Record<string, number>;
  accepted: number;
  duplicates: number;
  /** Originals answered with accepted != their reading count (should be 0). */
  originalsNotAllAccepted: number;
  /** Resends answered with duplicates != their reading count (should be 0). */
  resendsNotAllDuplicates: number;
  /** Per HTTP attempt, request start to the answer's last byte. */
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** This process, the timed phase only. */
  cpuSeconds: number;
  peakRssBytes: number;
}

interface Upload {
  key: string;
  body: Buffer;
  readings: number;
  /** For a resend: the position of its original in the send order. */
  originalOf: number | null;
}

/** One minute at 1 Hz; the simulation yields the original system's 4 gases, so 240 readings. */
const SECONDS_PER_BATCH = 60;
/** A device would not wait longer than this for a server's Retry-After. */
const MAX_RETRY_AFTER_MS = 30_000;
const NETWORK_RETRY_MS = 1_000;
const MAX_ATTEMPTS = 10;
const gzipAsync = promisify(gzip);

/** mulberry32 again (daemon/drivers/sim.ts keeps its own private): shuffles reproducibly. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const a = items[i] as T;
    items[i] = items[j] as T;
    items[j] = a;
  }
  return items;
}

interface PlannedBatch {
  key: string;
  json: string;
  readings: number;
  resend: boolean;
  /** Sort key of the send order. */
  at: number;
  /** The index into `planned` of the original, for a resend. */
  originalIndex: number;
}

/**
 * Every body of the run, in send order. Batch by batch as sensord builds
 * them (sync/batch.ts: reading ids `<prefix>-r<seq base 36>`, the batch id a
 * hash of device and reading ids), devices interleaved minute by minute as a
 * fleet uploading at once would be. The last reading is a minute old, so no
 * ts is in the future.
 */
async function buildUploads(
  options: FleetClientOptions,
): Promise<{ uploads: Upload[]; jsonBytes: number }> {
  const random = seeded(options.seed);
  const startMs = Math.floor(Date.now() / 1000) * 1000 - (options.minutes + 1) * 60_000;
  const planned: PlannedBatch[] = [];
  const order = shuffled(
    Array.from({ length: options.devices }, (_, index) => index),
    random,
  );
  const slot = new Map(order.map((device, position) => [device, position]));
  for (let device = 0; device < options.devices; device++) {
    const prefix = newIdPrefix();
    const info: BatchDevice = {
      id: `pi-${String(device + 1).padStart(4, "0")}`,
      group: `lab-${(device % 20) + 1}`,
      gps: `${(37.5 + random() * 0.2).toFixed(6)}, ${(126.9 + random() * 0.2).toFixed(6)}`,
    };
    const simulation = new GasSimulation({ seed: options.seed + device, spikeChance: 1 / 900 });
    // Devices do not sample on the same millisecond.
    const phaseMs = Math.floor(random() * 1000);
    let seq = 0;
    for (let minute = 0; minute < options.minutes; minute++) {
      const items: BatchItem[] = [];
      for (let second = 0; second < SECONDS_PER_BATCH; second++) {
        const ts = new Date(
          startMs + phaseMs + (minute * SECONDS_PER_BATCH + second) * 1000,
        ).toISOString();
        for (const { gas, value } of simulation.next().values) {
          const id = readingId(prefix, ++seq);
          const json = JSON.stringify({
            id,
            sensor: "gas0",
            gas,
            value,
            unit: DEFAULT_UNIT[gas],
            ts,
            flags: [],
          });
          items.push({ id, json });
        }
      }
      const { batchId, json } = batchJson(info, items);
      planned.push({
        key: batchId,
        json,
        readings: items.length,
        resend: false,
        at: minute * options.devices + (slot.get(device) ?? 0),
        originalIndex: -1,
      });
    }
  }
  const resendCount = Math.round(planned.length * options.resendFraction);
  const chosen = shuffled(
    Array.from({ length: planned.length }, (_, index) => index),
    random,
  ).slice(0, resendCount);
  for (const index of chosen) {
    const original = planned[index] as PlannedBatch;
    // A new batch id (and key) over the same readings: the ingest can only
    // tell it is a repeat by the reading ids.
    const key = contentId("fleet-load.resend", [original.key]);
    planned.push({
      key,
      json: original.json.replace(`"batchId":"${original.key}"`, `"batchId":"${key}"`),
      readings: original.readings,
      resend: true,
      // Sent a quarter to three quarters of a fleet round later, amid other devices' uploads.
      at: original.at + options.devices * (0.25 + random() * 0.5),
      originalIndex: index,
    });
  }
  const sorted = planned
    .map((batch, index) => ({ batch, index }))
    .sort((a, b) => a.batch.at - b.batch.at);
  const position = new Map(sorted.map(({ index }, at) => [index, at]));
  const uploads: Upload[] = [];
  let jsonBytes = 0;
  // gzip runs on libuv's pool: a window of requests keeps both cores busy.
  const window = 64;
  for (let start = 0; start < sorted.length; start += window) {
    const slice = sorted.slice(start, start + window);
    const bodies = await Promise.all(
      slice.map(({ batch }) => gzipAsync(batch.json, { level: GZIP_LEVEL })),
    );
    slice.forEach(({ batch }, offset) => {
      jsonBytes += Buffer.byteLength(batch.json);
      uploads.push({
        key: batch.key,
        body: bodies[offset] as Buffer,
        readings: batch.readings,
        originalOf: batch.resend ? (position.get(batch.originalIndex) ?? null) : null,
      });
    });
  }
  return { uploads, jsonBytes };
}

/** Retry-After in seconds or as an HTTP date (RFC 9110 10.2.3); 1 s when absent or unreadable. */
function retryAfterMs(header: string | string[] | undefined): number {
  const text = Array.isArray(header) ? header[0] : header;
  if (text === undefined) return 1000;
  const seconds = Number(text);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(text) - Date.now();
  return Number.isFinite(ms) ? Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms)) : 1000;
}

function errorCode(text: string): string {
  try {
    const body = JSON.parse(text) as { code?: unknown };
    return typeof body.code === "string" ? body.code : "(no code)";
  } catch {
    return "(not JSON)";
  }
}

const sleep = (ms: number) => new Promise((resolveWait) => setTimeout(resolveWait, ms));

async function send(options: FleetClientOptions, uploads: Upload[]): Promise<FleetClientReport> {
  const pools = options.targets.map(
    (url) =>
      // Every pool may hold all the connections: round-robin does not keep
      // them evenly split at every instant, and a queue inside undici would
      // hide waiting time from the latencies.
      new Pool(url, { connections: options.concurrency, pipelining: 1, keepAliveTimeout: 60_000 }),
  );
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  const totals = {
    requests: 0,
    retries503: 0,
    retriesNetwork: 0,
    ok200: 0,
    accepted: 0,
    duplicates: 0,
    originalsNotAllAccepted: 0,
    resendsNotAllDuplicates: 0,
  };
  const answered = uploads.map(() => {
    let resolveDone = () => {};
    const promise = new Promise<void>((resolve) => {
      resolveDone = resolve;
    });
    return { promise, resolve: resolveDone };
  });
  const fail = (label: string) => {
    failures[label] = (failures[label] ?? 0) + 1;
  };

  const upload = async (upload: Upload): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      const pool = pools[totals.requests++ % pools.length] as Pool;
      const started = performance.now();
      try {
        const response = await pool.request({
          path: "/ingest",
          method: "POST",
          headers: {
            "content-type": "application/json",
            "content-encoding": "gzip",
            "idempotency-key": upload.key,
            index: "gasdetect",
            "user-agent": "sensord-fleet-load",
          },
          body: upload.body,
        });
        const text = await response.body.text();
        latencies.push(performance.now() - started);
        if (response.statusCode === 503 && attempt < MAX_ATTEMPTS) {
          totals.retries503++;
          await sleep(retryAfterMs(response.headers["retry-after"]));
          continue;
        }
        if (response.statusCode !== 200) {
          fail(`${response.statusCode} ${errorCode(text)}`);
          return;
        }
        const answer = JSON.parse(text) as { accepted: number; duplicates: number };
        totals.ok200++;
        totals.accepted += answer.accepted;
        totals.duplicates += answer.duplicates;
        if (upload.originalOf === null && answer.accepted !== upload.readings) {
          totals.originalsNotAllAccepted++;
        }
        if (upload.originalOf !== null && answer.duplicates !== upload.readings) {
          totals.resendsNotAllDuplicates++;
        }
        return;
      } catch (error) {
        latencies.push(performance.now() - started);
        const code = error instanceof Error && "code" in error ? String(error.code) : String(error);
        if (attempt >= MAX_ATTEMPTS) {
          fail(`error ${code}`);
          return;
        }
        totals.retriesNetwork++;
        await sleep(NETWORK_RETRY_MS);
      }
    }
  };

  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < uploads.length) {
      const index = next++;
      const item = uploads[index] as Upload;
      // A resend must reach the ingest after its original, or its readings
      // would count as accepted there and the original's as duplicates.
      if (item.originalOf !== null) await answered[item.originalOf]?.promise;
      try {
        await upload(item);
      } finally {
        answered[index]?.resolve();
      }
    }
  };

  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  await Promise.all(pools.map((pool) => pool.close()));
  latencies.sort((a, b) => a - b);
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  return {
    event: "done",
    seconds,
    ...totals,
    failures,
    latencyMs: {
      p50: percentile(latencies, 0.5),
      p90: percentile(latencies, 0.9),
      p99: percentile(latencies, 0.99),
      max: latencies.at(-1) ?? Number.NaN,
      mean: latencies.reduce((sum, value) => sum + value, 0) / Math.max(1, latencies.length),
    },
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    peakRssBytes: Number(match?.[1] ?? 0) * 1024,
  };
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? "{}") as FleetClientOptions;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const { uploads, jsonBytes } = await buildUploads(options);
  const buildCpu = process.cpuUsage(cpuBefore);
  const resends = uploads.filter((upload) => upload.originalOf !== null);
  const readingsSent = uploads.reduce((sum, upload) => sum + upload.readings, 0);
  const resentReadings = resends.reduce((sum, upload) => sum + upload.readings, 0);
  const ready: FleetClientReady = {
    event: "ready",
    batches: uploads.length - resends.length,
    resends: resends.length,
    readingsSent,
    distinctReadings: readingsSent - resentReadings,
    resentReadings,
    bodyBytes: uploads.reduce((sum, upload) => sum + upload.body.length, 0),
    jsonBytes,
    buildSeconds: (performance.now() - started) / 1000,
    buildCpuSeconds: (buildCpu.user + buildCpu.system) / 1e6,
  };
  process.stdout.write(`${JSON.stringify(ready)}\n`);
  // The bench samples the servers' CPU between "ready" and its go line.
  const lines = createInterface({ input: process.stdin });
  for await (const _line of lines) break;
  const report = await send(options, uploads);
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

// Imported for its types by bench/fleet-load.ts; runs only as a script.
if (process.argv[1]?.endsWith("fleet-load-client.js")) {
  main().catch((error: unknown) => {
    process.stderr.write(
      `fleet load client failed: ${error instanceof Error ? error.stack : error}\n`,
    );
    process.exit(1);
  });
}
