import { readFileSync } from "node:fs";
import type { SyncConfig } from "../daemon/config/types.js";
import { createLogger } from "../daemon/log/logger.js";
import { openStore } from "../daemon/store/store.js";
import { EncoderThread } from "../sync/encoder.js";
import type { EncoderSettings } from "../sync/encoder-protocol.js";
import { SyncWorker } from "../sync/worker.js";

/**
 * The sensord side of the sync benchmark, in a process of its own so its
 * peak RSS is measured alone: opens a prefilled store and drains it to
 * `endpoint` with a SyncWorker (trigger() until nothing is pending). With
 * `liveEveryMs` > 0 it also commits a live reading (sensor "live0", ts = the
 * commit time) every `liveEveryMs` until the backlog has been uploaded.
 *
 * argv[2]: JSON DrainOptions. stdout: one JSON line `{"event":"started",...}`
 * when the first cycle starts, then `{"event":"done",...}` (DrainReport).
 * stderr: the worker's log.
 */
export interface DrainOptions {
  db: string;
  /** Full URL, e.g. http://127.0.0.1:PORT/ingest */
  endpoint: string;
  /** [sync] compress: gzip bodies over 1 KiB. */
  compress: boolean;
  liveEveryMs: number;
  /** Gives up (exit 1) after this long. */
  deadlineMs: number;
}

export interface DrainReport {
  event: "done";
  pendingAtStart: number;
  pendingAtEnd: number;
  /** Highest seq of the prefilled backlog; live readings get seqs above it. */
  backlogLastSeq: number;
  uploaded: number;
  requests: number;
  /** From the first trigger() to nothing pending, measured here. */
  seconds: number;
  /** Date.now() when the backlog (every seq <= backlogLastSeq) was uploaded. */
  backlogDoneEpochMs: number;
  liveCommitted: number;
  /** CPU (user + system) this process used from the first trigger() to the end of the drain. */
  cpuSeconds: number;
  /** VmHWM of this process at the end. */
  peakRssBytes: number;
}

/** `[sync]` as the benchmark runs it: the defaults except max_rate (see bench/sync.ts). */
export function benchSyncConfig(endpoint: string, compress: boolean): SyncConfig {
  return {
    endpoint,
    format: "batch",
    index: "gasdetect",
    schedule: "* * * * *",
    intervalMs: 0,
    apiKeyFile: null,
    batchMaxReadings: 1000,
    batchMaxBytes: 256 * 1024,
    backlogBatchMaxReadings: 10_000,
    backlogBatchMaxBytes: 2 * 1024 * 1024,
    maxRate: 1_000_000,
    timeoutMs: 15_000,
    compress,
    // Readings only: the backlog holds no alert events worth measuring.
    alertsEndpoint: null,
  };
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? "{}") as DrainOptions;
  const deadline = performance.now() + options.deadlineMs;
  const log = createLogger({
    level: "info",
    journald: false,
    write: (line) => process.stderr.write(line),
  });
  const store = openStore({ path: options.db, maxBytes: 4 * 1024 ** 3, log });
  const queue = store.syncQueue();
  const backlogLastSeq = store.lastReadingSeq();
  const pendingAtStart = queue.stats().pending;
  const worker = new SyncWorker({
    config: benchSyncConfig(options.endpoint, options.compress),
    device: {
      id: "bench-pi",
      group: "2",
      gps: "37.61002501514269, 126.99636868892937",
      timezone: "Asia/Seoul",
    },
    queue,
    log,
    apiKey: () => null,
    // As sensord wires it (daemon/daemon.ts): a long drain reads and encodes on a second thread.
    ...(EncoderThread.available
      ? {
          encoder: (settings: EncoderSettings) =>
            new EncoderThread({ ...settings, dbPath: store.file, idPrefix: store.idPrefix }),
        }
      : {}),
  });

  let liveCommitted = 0;
  const commitLive = (): void => {
    const tsMs = Date.now();
    store.commit(
      [
        {
          seq: store.lastReadingSeq() + 1,
          sensor: "live0",
          gas: "co",
          value: 8 + (liveCommitted % 10) / 10,
          unit: "ppm",
          tsMs,
          flags: 0,
          sensorId: null,
          sensorType: null,
        },
      ],
      [],
    );
    liveCommitted++;
  };
  let liveTimer = options.liveEveryMs > 0 ? setInterval(commitLive, options.liveEveryMs) : null;

  process.stdout.write(`${JSON.stringify({ event: "started", epochMs: Date.now() })}\n`);
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  let backlogDoneEpochMs = 0;
  // No status() calls while a cycle runs: its queue counts would compete with the worker
  // on this thread. trigger() waits for a running cycle and returns at once during a backoff
  // (the worker's own retry timer starts the next attempt).
  for (;;) {
    await worker.trigger();
    const [oldest] = queue.oldestPending(0, 1);
    if (backlogDoneEpochMs === 0 && (oldest === undefined || oldest.seq > backlogLastSeq)) {
      backlogDoneEpochMs = Date.now();
      if (liveTimer !== null) clearInterval(liveTimer);
      liveTimer = null;
    }
    if (oldest === undefined && liveTimer === null) break;
    if (performance.now() > deadline) {
      throw new Error(`still ${queue.stats().pending} readings pending at the deadline`);
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 20));
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const status = worker.status();
  await worker.stop();
  store.close();
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  const report: DrainReport = {
    event: "done",
    pendingAtStart,
    pendingAtEnd: status.queue.pending,
    backlogLastSeq,
    uploaded: status.uploadedTotal,
    requests: status.requests,
    seconds,
    backlogDoneEpochMs,
    liveCommitted,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    peakRssBytes: Number(match?.[1] ?? 0) * 1024,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

// Imported for its types and benchSyncConfig by bench/sync.ts; runs only as a script.
if (process.argv[1]?.endsWith("drain-child.js")) {
  main().catch((error: unknown) => {
    process.stderr.write(`drain child failed: ${error instanceof Error ? error.stack : error}\n`);
    process.exit(1);
  });
}
