import { batchEnvelopeBytes, batchJson, chunkReadings, encodeBodySync } from "./batch.js";
import type { EncodedBatch, EncoderSettings } from "./encoder-protocol.js";
import type { SyncQueue } from "./queue.js";

/**
 * Reads pending readings oldest-first from its own cursor and encodes them
 * into POST-ready batches: the work of the encoder thread
 * (daemon/store/encoder-thread.ts), kept free of threads so it can be tested alone.
 */
export class QueueEncoder {
  private cursor = 0;
  private readonly envelopeBytes: number;

  constructor(
    private readonly queue: Pick<SyncQueue, "oldestPending">,
    private readonly settings: EncoderSettings,
  ) {
    this.envelopeBytes = batchEnvelopeBytes(settings.device);
  }

  from(afterSeq: number): void {
    this.cursor = afterSeq;
  }

  /** The next queue read, encoded; null when nothing is pending above the cursor. */
  next(): { batches: EncodedBatch[]; lastSeq: number } | null {
    const { settings } = this;
    const items = this.queue.oldestPending(this.cursor, settings.batchMaxReadings);
    const last = items.at(-1);
    if (last === undefined) return null;
    this.cursor = last.seq;
    const batches: EncodedBatch[] = [];
    for (const chunk of chunkReadings(
      items,
      settings.batchMaxReadings,
      settings.batchMaxBytes,
      this.envelopeBytes,
    )) {
      const { batchId, json } = batchJson(settings.device, chunk);
      const { body, headers } = encodeBodySync(json, settings.compress);
      batches.push({ seqs: chunk.map((item) => item.seq), batchId, body, headers });
    }
    return { batches, lastSeq: last.seq };
  }
}
