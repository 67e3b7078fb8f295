import type { Gas, Unit } from "../../schemas/vocabulary.js";

/** One gas value from one read. */
export interface ChannelValue {
  gas: Gas;
  value: number;
  /** The unit the driver measured in; omitted means "already in the channel's configured unit". */
  unit?: Unit;
  /** The value lies outside the range its conversion curve is valid for (stored flagged, never alarms). */
  outOfRange?: boolean;
}

export interface Sample {
  values: ChannelValue[];
  /** Epoch ms the sample was taken; omitted means "now" (replay of recorded data sets it). */
  ts?: number;
}

/**
 * A sensor driver: the only code that talks to hardware (or pretends to).
 *
 * Lifecycle: `open()` once before the first read and again after a failure
 * (after `close()`); `read()` never runs concurrently with itself; `close()`
 * releases the device and must not throw. A driver throws DriverError for a
 * failed read; the RunningSensor wrapper owns scheduling, backoff, counters
 * and logging, so drivers stay small.
 */
export interface SensorDriver {
  open(): Promise<void>;
  /** Resolves to one sample, or `null` when the source is exhausted (replay at end of file). */
  read(): Promise<Sample | null>;
  close(): Promise<void>;
}
