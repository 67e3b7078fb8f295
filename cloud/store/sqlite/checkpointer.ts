import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/** How often the thread copies the WAL into the database file. */
const CHECKPOINT_EVERY_MS = 1000;

/**
 * The worker's code, inline so the same thread starts from the built files
 * and from the TypeScript sources the tests run: a connection of its own
 * that checkpoints the WAL on a timer. PASSIVE never waits for the writer.
 */
const THREAD = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.module);
const db = new Database(workerData.file);
db.pragma("busy_timeout = 5000");
const checkpoint = (mode) => {
  try {
    db.pragma("wal_checkpoint(" + mode + ")");
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message ? error.message : error) });
  }
};
const timer = setInterval(() => checkpoint("PASSIVE"), workerData.everyMs);
parentPort.on("message", () => {
  clearInterval(timer);
  checkpoint("PASSIVE");
  db.close();
  parentPort.close();
});
`;

/**
 * Checkpoints off the event loop. SQLite's automatic checkpoint runs inside
 * the commit that crosses 1,000 WAL pages: it copies them into the database
 * file and fsyncs, on the thread that serves requests. Profiled under the
 * fleet load, that was a quarter of the ingest's time (~70-85k readings/s
 * with it, ~95-115k without). Here the writer never checkpoints
 * (wal_autocheckpoint = 0) and this thread does it every second.
 */
export class Checkpointer {
  private readonly worker: Worker;
  private readonly stopped: Promise<void>;

  constructor(file: string, onError: (message: string) => void) {
    this.worker = new Worker(THREAD, {
      eval: true,
      workerData: {
        file,
        module: createRequire(import.meta.url).resolve("better-sqlite3"),
        everyMs: CHECKPOINT_EVERY_MS,
      },
    });
    this.worker.on("message", (message: { error?: string }) => {
      if (message.error !== undefined) onError(`WAL checkpoint failed: ${message.error}`);
    });
    this.worker.on("error", (error) => onError(`WAL checkpoint thread failed: ${error.message}`));
    // Never what keeps a process alive: close() stops it, and exit ends it anyway.
    this.worker.unref();
    this.stopped = new Promise((resolve) => this.worker.once("exit", () => resolve()));
  }

  /** Runs a last checkpoint and ends the thread. */
  async stop(): Promise<void> {
    // Waiting on an unref'd thread would let the process end (with code 0) mid-shutdown.
    this.worker.ref();
    this.worker.postMessage("stop");
    await this.stopped;
  }
}
