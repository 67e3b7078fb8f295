import type { AlertKind } from "./alert.js";
import type { ComparisonOp, Gas, ReadingFlag, Severity, Unit } from "./vocabulary.js";

/**
 * Readings and alert events as the daemon commits them: the recorder writes
 * them to the store in one transaction and hands the same records to the
 * outputs that publish them live (the MQTT relay), so both sides share
 * these types without the outputs importing the store.
 */

/** Reading flags as stored: a bit each, so an unflagged reading costs no bytes. */
export const FLAG_BITS: Record<ReadingFlag, number> = {
  warmup: 1,
  out_of_range: 2,
  clock_unsynced: 4,
};

/** A reading on its way to the database; `seq` was allocated by the recorder from `lastReadingSeq`. */
export interface NewReading {
  seq: number;
  sensor: string;
  gas: Gas;
  value: number;
  unit: Unit;
  /** Epoch milliseconds. */
  tsMs: number;
  /** OR of FLAG_BITS. */
  flags: number;
  /** The original system's `sensorid` / `sensortype` for this channel, if configured. */
  sensorId: string | null;
  sensorType: string | null;
}

export interface NewAlert {
  seq: number;
  readingSeq: number;
  rule: string;
  sensor: string;
  gas: Gas;
  kind: AlertKind;
  value: number;
  unit: Unit;
  threshold: number;
  op: ComparisonOp;
  severity: Severity;
  tsMs: number;
}
