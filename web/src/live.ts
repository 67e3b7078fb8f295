// Live updates of a downsampled view: new readings folded into the same
// bucket grid the server used, the window sliding with the clock. No DOM.
import type { SeriesLine } from "./chart-data.js";

/** A reading as sensord's live feed sends it (ts in epoch ms). */
export interface LiveReading {
  /** Commit order: what the view already holds is told apart by it. */
  seq: number;
  sensor: string;
  gas: string;
  unit: string;
  ts: number;
  value: number;
}

/** What the page draws: the series answer, kept current. */
export interface LiveView {
  /** Bucket grid origin: the series answer's `from` (epoch ms). */
  anchorMs: number;
  bucketMs: number;
  fromMs: number;
  toMs: number;
  /** The newest reading folded in: readings at or below it are already counted. */
  lastSeq: number;
  lines: SeriesLine[];
}

/**
 * Folds `readings` (in commit order) into `view` (in place: a tick is a
 * handful of readings and a line holds up to a chart's width of buckets),
 * skipping those it already holds, and slides the window to end at `nowMs`,
 * keeping its span. A bucket keeps exact min/max/avg/count
 * whether its readings came from the server's answer or from the feed.
 */
export function advance(view: LiveView, readings: readonly LiveReading[], nowMs: number): LiveView {
  const span = view.toMs - view.fromMs;
  for (const reading of readings) {
    if (reading.seq <= view.lastSeq) continue;
    view.lastSeq = reading.seq;
    const line = lineFor(view, reading);
    const start =
      view.anchorMs + Math.floor((reading.ts - view.anchorMs) / view.bucketMs) * view.bucketMs;
    fold(line, start, reading.value);
  }
  if (nowMs > view.toMs) {
    view.toMs = nowMs;
    view.fromMs = nowMs - span;
  }
  for (const line of view.lines) {
    let drop = 0;
    while (drop < line.t.length && (line.t[drop] ?? 0) + view.bucketMs <= view.fromMs) drop++;
    if (drop > 0) {
      for (const values of [line.t, line.min, line.max, line.avg, line.count])
        values.splice(0, drop);
    }
  }
  return view;
}

function lineFor(view: LiveView, reading: LiveReading): SeriesLine {
  const found = view.lines.find(
    (line) =>
      line.sensor === reading.sensor && line.gas === reading.gas && line.unit === reading.unit,
  );
  if (found !== undefined) return found;
  const line: SeriesLine = {
    device: view.lines[0]?.device ?? "",
    group: view.lines[0]?.group ?? "",
    sensor: reading.sensor,
    gas: reading.gas,
    unit: reading.unit,
    t: [],
    min: [],
    max: [],
    avg: [],
    count: [],
  };
  view.lines.push(line);
  return line;
}

function fold(line: SeriesLine, start: number, value: number): void {
  // Readings arrive in commit order: the bucket is almost always the last one.
  let at = line.t.length - 1;
  while (at >= 0 && (line.t[at] ?? 0) > start) at--;
  if (at >= 0 && line.t[at] === start) {
    const count = line.count[at] ?? 0;
    line.min[at] = Math.min(line.min[at] ?? value, value);
    line.max[at] = Math.max(line.max[at] ?? value, value);
    line.avg[at] = ((line.avg[at] ?? 0) * count + value) / (count + 1);
    line.count[at] = count + 1;
    return;
  }
  line.t.splice(at + 1, 0, start);
  line.min.splice(at + 1, 0, value);
  line.max.splice(at + 1, 0, value);
  line.avg.splice(at + 1, 0, value);
  line.count.splice(at + 1, 0, 1);
}
