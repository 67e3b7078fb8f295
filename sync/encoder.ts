import { Worker } from "node:worker_threads";
import type {
  EncodedBatch,
  EncoderOptions,
  EncoderReply,
  EncoderRequest,
} from "./encoder-protocol.js";

/** Batches to POST, read and encoded off the event loop; see EncoderThread. */
export interface BatchEncoder {
  /** The next drain reads pending readings above this seq. */
  from(afterSeq: number): void;
  /** The next queue read, encoded, in order; null when nothing is pending above the cursor. */
  next(): Promise<{ batches: EncodedBatch[]; lastSeq: number } | null>;
  close(): Promise<void>;
}

const MIB = 1024 * 1024;

/**
 * The encoder thread's V8 heap, sized for the largest batch it builds.
 * A young generation of 8 MiB instead of V8's 16-32: the thread's batches
 * die young anyway (measured ~20-30 MiB less peak RSS for the same rate).
 * An old generation capped well above what one batch keeps alive (its rows,
 * the JSON text and the gzip input, ~8 bytes per body byte at most): without
 * a cap V8 lets promoted garbage pile up to ~20-26 MiB before its first full
 * collection; with 32 MiB it stays at ~15 (issue 14, 1 M readings drained, 3 runs).
 */
export function encoderHeapLimits(batchMaxBytes: number): {
  maxYoungGenerationSizeMb: number;
  maxOldGenerationSizeMb: number;
} {
  return {
    maxYoungGenerationSizeMb: 8,
    maxOldGenerationSizeMb: Math.max(32, Math.ceil((8 * batchMaxBytes) / MIB) + 16),
  };
}

/**
 * A worker thread that reads and encodes backlog batches while the event loop
 * posts them and marks them uploaded: a drain uses a second core instead of
 * taking turns on one. Requests are answered in order. `threadFile` is the
 * thread's entry, which opens the queue and answers EncoderRequests with a
 * QueueEncoder: the store owns it (daemon/store/encoder-thread.ts), since
 * only the store knows how to open its queue.
 */
export class EncoderThread implements BatchEncoder {
  private readonly worker: Worker;
  private readonly waiting = new Map<
    number,
    { resolve: (reply: EncoderReply) => void; reject: (error: Error) => void }
  >();
  private nextId = 0;
  private failure: Error | null = null;

  constructor(threadFile: string, options: EncoderOptions) {
    this.worker = new Worker(threadFile, {
      workerData: options,
      resourceLimits: encoderHeapLimits(options.batchMaxBytes),
    });
    this.worker.unref();
    this.worker.on("message", (reply: EncoderReply) => {
      const waiter = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      waiter?.resolve(reply);
    });
    const fail = (error: Error) => {
      this.failure = error;
      for (const waiter of this.waiting.values()) waiter.reject(error);
      this.waiting.clear();
    };
    this.worker.on("error", fail);
    this.worker.on("exit", (code) => fail(new Error(`the encoder thread exited (code ${code})`)));
  }

  from(afterSeq: number): void {
    this.send({ type: "from", afterSeq });
  }

  async next(): Promise<{ batches: EncodedBatch[]; lastSeq: number } | null> {
    if (this.failure !== null) throw this.failure;
    const id = this.nextId++;
    const reply = await new Promise<EncoderReply>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.send({ type: "next", id });
    });
    if ("error" in reply) throw new Error(`encoding a batch failed: ${reply.error}`);
    if ("done" in reply) return null;
    return { batches: reply.batches, lastSeq: reply.lastSeq };
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private send(request: EncoderRequest): void {
    this.worker.postMessage(request);
  }
}
