import type { BucketPlan } from "../../core/buckets.js";
import { bucketStart } from "../../core/buckets.js";

/** What a chart line is drawn for: one sensor's gas in one unit. */
export interface LineKey {
  sensor: string;
  gas: string;
  unit: string;
}

/** One chart line: only the buckets that hold readings, oldest first (the fleet's shape, web/src/chart-data.ts). */
export interface SeriesLine extends LineKey {
  device: string;
  group: string;
  /** Bucket start times, epoch ms, ascending. */
  t: number[];
  min: number[];
  max: number[];
  avg: number[];
  count: number[];
}

interface Cell {
  lo: number;
  hi: number;
  total: number;
  n: number;
}

/**
 * Merges partial aggregates (min, max, sum, count of some readings of one
 * bucket) into per-line buckets. Partials come from SQL over seq chunks, so
 * one bucket may arrive in pieces, and several `series` rows (same sensor,
 * gas and unit; different sensor_id/type) may feed one line. Pure.
 */
export class BucketAccumulator {
  private readonly cells = new Map<string, Map<number, Cell>>();
  private readonly keys = new Map<string, LineKey>();

  constructor(readonly plan: BucketPlan) {}

  add(key: LineKey, bucket: number, lo: number, hi: number, total: number, n: number): void {
    if (n <= 0 || bucket < 0 || bucket >= this.plan.count) return;
    const name = `${key.sensor}\u0000${key.gas}\u0000${key.unit}`;
    let line = this.cells.get(name);
    if (line === undefined) {
      line = new Map();
      this.cells.set(name, line);
      this.keys.set(name, key);
    }
    const cell = line.get(bucket);
    if (cell === undefined) {
      line.set(bucket, { lo, hi, total, n });
      return;
    }
    cell.lo = Math.min(cell.lo, lo);
    cell.hi = Math.max(cell.hi, hi);
    cell.total += total;
    cell.n += n;
  }

  /** Lines ordered by gas, then sensor, then unit (stable across refreshes: colours stay put). */
  lines(device: { id: string; group: string }): SeriesLine[] {
    const lines: SeriesLine[] = [];
    for (const [name, cells] of this.cells) {
      const key = this.keys.get(name);
      if (key === undefined) continue;
      const line: SeriesLine = {
        device: device.id,
        group: device.group,
        ...key,
        t: [],
        min: [],
        max: [],
        avg: [],
        count: [],
      };
      for (const bucket of [...cells.keys()].sort((a, b) => a - b)) {
        const cell = cells.get(bucket);
        if (cell === undefined) continue;
        line.t.push(bucketStart(this.plan, bucket));
        line.min.push(cell.lo);
        line.max.push(cell.hi);
        line.avg.push(cell.total / cell.n);
        line.count.push(cell.n);
      }
      lines.push(line);
    }
    return lines.sort(
      (a, b) =>
        a.gas.localeCompare(b.gas) ||
        a.sensor.localeCompare(b.sensor) ||
        a.unit.localeCompare(b.unit),
    );
  }
}
