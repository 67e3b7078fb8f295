import { describeError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import type { ChannelConfig, SensorConfig } from "../../schemas/config-types.js";
import { DEFAULT_UNIT } from "../../schemas/names.js";
import { FLAG_BITS, type NewAlert, type NewReading } from "../../schemas/records.js";
import type { Sample } from "../drivers/driver.js";
import type { ReadingStore } from "../store/types.js";
import type { ThresholdEngine } from "../thresholds/engine.js";
import { convert } from "../units/convert.js";

export interface RecorderDeps {
  store: ReadingStore;
  engine: ThresholdEngine;
  log: Logger;
  flushIntervalMs: number;
  /** Flush early once this many readings wait, which bounds memory when replaying at full speed. */
  maxPending?: number;
  /** Readings held in memory while the database refuses writes; past this the oldest are dropped (and counted). */
  maxHeld?: number;
}

export interface RecorderStats {
  pending: number;
  committed: number;
  /** Readings lost because the database refused writes for too long (memory cap). */
  droppedInMemory: number;
  /** Readings deleted by retention to stay under max_bytes, during this run. */
  droppedByRetention: number;
  lastFlushError: string | null;
  lastCommitAt: number | null;
  /** Values that were not finite numbers (a driver bug), skipped instead of stored. */
  rejectedValues: number;
}

const DEFAULT_MAX_PENDING = 8192;
const DEFAULT_MAX_HELD = 500_000;

/**
 * Turns samples into readings: allocates ids, converts to the channel's unit,
 * flags warm-up and out-of-range values, runs the threshold engine, and commits
 * readings with the alert events they caused in one transaction per flush.
 * An alert forces an immediate flush, so an alarm is on disk (and visible to
 * the relay) without waiting for `flush_interval`.
 */
export class Recorder {
  private readings: NewReading[] = [];
  private alerts: NewAlert[] = [];
  private nextReadingSeq: number;
  private nextAlertSeq: number;
  private timer: NodeJS.Timeout | null = null;
  private readonly stats: RecorderStats = {
    pending: 0,
    committed: 0,
    droppedInMemory: 0,
    droppedByRetention: 0,
    lastFlushError: null,
    lastCommitAt: null,
    rejectedValues: 0,
  };

  constructor(private readonly deps: RecorderDeps) {
    this.nextReadingSeq = deps.store.lastReadingSeq() + 1;
    this.nextAlertSeq = deps.store.lastAlertSeq() + 1;
  }

  start(): void {
    this.timer ??= setInterval(() => this.flush(), this.deps.flushIntervalMs);
  }

  /** Stops the timer and commits what is pending; true when nothing is left in memory. */
  stop(): boolean {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    return this.flush();
  }

  /** `clockUnsynced`: `tsMs` came from a system clock not known to be right (ClockWatch). */
  record(
    sensor: SensorConfig,
    sample: Sample,
    tsMs: number,
    warmingUp: boolean,
    clockUnsynced = false,
  ): void {
    let raisedOrCleared = false;
    for (const channelValue of sample.values) {
      const channel = channelFor(sensor, channelValue.gas);
      let { value } = channelValue;
      let unit = channel.unit;
      if (channel.calibration !== null) {
        value = channel.calibration.slope * value + channel.calibration.offset;
      } else if (channelValue.unit !== undefined && channelValue.unit !== channel.unit) {
        // Same rule as config/sensors.ts channelUnit: keep the driver's unit when there is no way across.
        const converted = convert(value, channelValue.unit, channel.unit);
        if (converted === null) unit = channelValue.unit;
        else value = converted;
      }
      if (!Number.isFinite(value)) {
        // A driver bug, not a reading: SQLite would refuse the whole batch on every retry.
        this.stats.rejectedValues++;
        continue;
      }
      let flags = warmingUp ? FLAG_BITS.warmup : 0;
      if (channelValue.outOfRange) flags |= FLAG_BITS.out_of_range;
      if (clockUnsynced) flags |= FLAG_BITS.clock_unsynced;
      const reading: NewReading = {
        seq: this.nextReadingSeq++,
        sensor: sensor.id,
        gas: channelValue.gas,
        value,
        unit,
        tsMs,
        flags,
        sensorId: channel.sensorId,
        sensorType: channel.sensorType,
      };
      this.readings.push(reading);
      for (const draft of this.deps.engine.evaluate(reading)) {
        this.alerts.push({ ...draft, seq: this.nextAlertSeq++, readingSeq: reading.seq });
        raisedOrCleared = true;
        const verb = draft.kind === "raise" ? "ALARM" : "cleared";
        const log = draft.kind === "raise" ? this.deps.log.warn : this.deps.log.info;
        log(
          `${verb} ${draft.rule} on ${draft.sensor}: ${draft.gas} ${draft.value} ${draft.unit} (threshold ${draft.op} ${draft.threshold})`,
        );
      }
    }
    if (raisedOrCleared || this.readings.length >= (this.deps.maxPending ?? DEFAULT_MAX_PENDING)) {
      this.flush();
    }
  }

  /** Commits everything pending in one transaction; on failure keeps it for the next try. */
  flush(): boolean {
    if (this.readings.length === 0 && this.alerts.length === 0) return true;
    try {
      const result = this.deps.store.commit(this.readings, this.alerts);
      this.stats.committed += this.readings.length;
      this.stats.droppedByRetention += result.droppedReadings;
      this.stats.lastCommitAt = Date.now();
      this.readings = [];
      this.alerts = [];
      if (this.stats.lastFlushError !== null) {
        this.deps.log.info("database accepts writes again; held readings committed");
        this.stats.lastFlushError = null;
      }
      return true;
    } catch (error) {
      const message = describeError(error);
      if (this.stats.lastFlushError === null) {
        this.deps.log.error(
          `commit failed, holding ${this.readings.length} readings in memory: ${message}`,
        );
      }
      this.stats.lastFlushError = message;
      this.enforceMemoryCap();
      return false;
    }
  }

  status(): RecorderStats {
    return { ...this.stats, pending: this.readings.length };
  }

  private enforceMemoryCap(): void {
    const excess = this.readings.length - (this.deps.maxHeld ?? DEFAULT_MAX_HELD);
    if (excess <= 0) return;
    this.readings.splice(0, excess);
    this.stats.droppedInMemory += excess;
    this.deps.log.error(
      `memory cap reached while the database refuses writes: dropped the ${excess} oldest readings`,
    );
  }
}

function channelFor(sensor: SensorConfig, gas: NewReading["gas"]): ChannelConfig {
  return (
    sensor.channels[gas] ?? {
      unit: DEFAULT_UNIT[gas],
      calibration: null,
      sensorId: null,
      sensorType: null,
    }
  );
}
