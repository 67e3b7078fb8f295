import type { BatchDevice } from "../schemas/batch.js";

/** How batches are cut and encoded: the sync worker's own settings. */
export interface EncoderSettings {
  device: BatchDevice;
  batchMaxReadings: number;
  batchMaxBytes: number;
  compress: boolean;
  /** Whose watermark and ranges say what is pending: the output's name. */
  sink: string;
}

/** What the encoder thread needs: the database to read, and the settings. */
export interface EncoderOptions extends EncoderSettings {
  dbPath: string;
  idPrefix: string;
}

/** One batch ready to POST: its readings' seqs, idempotency key and encoded body. */
export interface EncodedBatch {
  seqs: number[];
  batchId: string;
  body: Uint8Array;
  headers: Record<string, string>;
}

export type EncoderRequest =
  /** Start reading pending readings above `afterSeq` (a new drain). */
  | { type: "from"; afterSeq: number }
  /** The next queue read, encoded (usually one batch); `done` once nothing is pending above the cursor. */
  | { type: "next"; id: number };

export type EncoderReply =
  | { id: number; batches: EncodedBatch[]; lastSeq: number }
  | { id: number; done: true }
  | { id: number; error: string };
