import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import type { EncoderOptions, EncoderReply, EncoderRequest } from "../../sync/encoder-protocol.js";
import { QueueEncoder } from "../../sync/queue-encoder.js";
import { SqliteSyncQueue } from "./sync-queue.js";

/**
 * The encoder thread (see sync/encoder.ts): a QueueEncoder on a read-only
 * connection of its own (WAL lets it read while the main thread commits and
 * marks), answering requests in order. It lives with the store because it
 * opens the store's queue; sync/ sees only the SyncQueue it reads through.
 */
const options = workerData as EncoderOptions;
const port = parentPort;
if (port === null) throw new Error("daemon/store/encoder-thread.js runs as a worker thread");

const db = new Database(options.dbPath, { readonly: true });
db.pragma("busy_timeout = 5000");
// It reads the queue in order once: a small cache, as the daemon's own connection has.
db.pragma("cache_size = -2048");
const encoder = new QueueEncoder(
  new SqliteSyncQueue(db, options.idPrefix, options.dbPath, options.sink),
  options,
);

port.on("message", (request: EncoderRequest) => {
  if (request.type === "from") {
    encoder.from(request.afterSeq);
    return;
  }
  let reply: EncoderReply;
  try {
    const read = encoder.next();
    reply = read === null ? { id: request.id, done: true } : { id: request.id, ...read };
  } catch (error) {
    reply = { id: request.id, error: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
});
