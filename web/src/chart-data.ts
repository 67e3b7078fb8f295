// Pure data shaping for the charts: no DOM, unit-tested in node.

/** One line of `GET /readings/series`: only the buckets that hold readings. */
export interface SeriesLine {
  device: string;
  group: string;
  sensor: string;
  gas: string;
  unit: string;
  t: number[];
  min: number[];
  max: number[];
  avg: number[];
  count: number[];
}

/** A chart's data: shared x (seconds, as uPlot wants), then per line avg/min/max aligned to it. */
export interface GasChartData {
  gas: string;
  unit: string;
  /** `label` is what the legend shows (long names shortened in the middle), `name` the whole of it. */
  lines: { label: string; name: string; device: string }[];
  x: number[];
  avg: (number | null)[][];
  min: (number | null)[][];
  max: (number | null)[][];
}

/** Groups lines by gas (in first-seen order) and aligns each gas's lines on the union of their buckets. */
export function gasCharts(lines: SeriesLine[], bucketMs?: number): GasChartData[] {
  const byGas = new Map<string, SeriesLine[]>();
  for (const line of lines) {
    const list = byGas.get(line.gas);
    if (list === undefined) byGas.set(line.gas, [line]);
    else list.push(line);
  }
  const charts: GasChartData[] = [];
  for (const [gas, gasLines] of byGas) {
    // With bucketMs, a slot right after each gap in a line stays null there, so the line breaks.
    const breaks =
      bucketMs === undefined ? [] : gasLines.flatMap((line) => gapStarts(line.t, bucketMs));
    const times = [...new Set([...gasLines.flatMap((line) => line.t), ...breaks])].sort(
      (a, b) => a - b,
    );
    const slot = new Map(times.map((time, index) => [time, index]));
    const aligned = (line: SeriesLine, values: number[]): (number | null)[] => {
      const out: (number | null)[] = new Array(times.length).fill(null);
      line.t.forEach((time, index) => {
        const at = slot.get(time);
        if (at !== undefined) out[at] = values[index] ?? null;
      });
      return out;
    };
    const devices = new Set(gasLines.map((line) => line.device));
    charts.push({
      gas,
      unit: [...new Set(gasLines.map((line) => line.unit))].join(", "),
      lines: gasLines.map((line) => {
        // The sensor name only when it is needed to tell two lines of one device apart.
        const name =
          devices.size === gasLines.length ? line.device : `${line.device}/${line.sensor}`;
        return { device: line.device, name, label: shortenMiddle(name, LABEL_CHARS) };
      }),
      x: times.map((time) => time / 1000),
      avg: gasLines.map((line) => aligned(line, line.avg)),
      min: gasLines.map((line) => aligned(line, line.min)),
      max: gasLines.map((line) => aligned(line, line.max)),
    });
  }
  return charts;
}

/** Legend labels longer than this are shortened in the middle. */
export const LABEL_CHARS = 24;

/**
 * `text` at most `max` characters, cut in the middle with an ellipsis: the
 * end of "a-long-device-name/gas0" (the sensor) tells two lines apart as
 * much as its start does. Pure.
 */
export function shortenMiddle(text: string, max: number): string {
  if (text.length <= max) return text;
  const keep = max - 1;
  const head = Math.ceil(keep * 0.6);
  return `${text.slice(0, head)}\u2026${text.slice(text.length - (keep - head))}`;
}

/**
 * Where a line should break: after each bucket followed by a silence longer
 * than 3 buckets and 3 times the line's usual spacing (its median gap), e.g.
 * a device that was off for a night; a reading every 10 s in 1-s buckets is
 * not a gap. Returns the start of the bucket after each such bucket. Pure.
 */
export function gapStarts(t: readonly number[], bucketMs: number): number[] {
  if (t.length < 2) return [];
  const gaps: number[] = [];
  for (let at = 1; at < t.length; at++) gaps.push((t[at] ?? 0) - (t[at - 1] ?? 0));
  const median = [...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)] ?? 0;
  const limit = Math.max(3 * bucketMs, 3 * median);
  const starts: number[] = [];
  gaps.forEach((gap, at) => {
    if (gap > limit) starts.push((t[at] ?? 0) + bucketMs);
  });
  return starts;
}

/** What the charts need of an alert event (`GET /alerts`). */
export interface AlertLike {
  device: string;
  sensor: string;
  rule: string;
  gas: string;
  kind: "raise" | "clear";
  severity: string;
  threshold: number;
  op: string;
  unit: string;
  ts: string;
}

export interface AlarmPeriod {
  device: string;
  gas: string;
  severity: string;
  startMs: number;
  endMs: number;
}

/**
 * Raise -> clear pairs per (device, sensor, rule), clipped to [fromMs, toMs):
 * a clear with no raise in view started before the range; a raise with no
 * clear is still active at its end.
 */
export function alarmPeriods(alerts: AlertLike[], fromMs: number, toMs: number): AlarmPeriod[] {
  const sorted = [...alerts].sort((a, b) => Date.parse(a.ts) - Date.parse(b.ts));
  const open = new Map<string, AlertLike & { startMs: number }>();
  const periods: AlarmPeriod[] = [];
  for (const alert of sorted) {
    const key = `${alert.device}\u0000${alert.sensor}\u0000${alert.rule}`;
    const at = Date.parse(alert.ts);
    if (alert.kind === "raise") {
      if (!open.has(key)) open.set(key, { ...alert, startMs: at });
      continue;
    }
    const raised = open.get(key);
    open.delete(key);
    periods.push({
      device: alert.device,
      gas: alert.gas,
      severity: alert.severity,
      startMs: raised?.startMs ?? fromMs,
      endMs: at,
    });
  }
  for (const raised of open.values()) {
    periods.push({
      device: raised.device,
      gas: raised.gas,
      severity: raised.severity,
      startMs: raised.startMs,
      endMs: toMs,
    });
  }
  return periods
    .map((period) => ({
      ...period,
      startMs: Math.max(fromMs, period.startMs),
      endMs: Math.min(toMs, period.endMs),
    }))
    .filter((period) => period.endMs > period.startMs)
    .sort((a, b) => a.startMs - b.startMs);
}

export interface ThresholdLine {
  gas: string;
  value: number;
  unit: string;
  severity: string;
  label: string;
}

/**
 * The thresholds the devices report, per gas: each alert event carries its
 * rule's threshold, op, unit and severity, and the newest event of each
 * (device, sensor, gas, severity) says what is in force there now (an older
 * event may hold a threshold since changed). Distinct lines, lowest first. Pure.
 */
export function thresholdLines(alerts: AlertLike[]): ThresholdLine[] {
  const newest = new Map<string, AlertLike>();
  for (const alert of alerts) {
    const key = `${alert.device}\u0000${alert.sensor}\u0000${alert.gas}\u0000${alert.severity}`;
    const held = newest.get(key);
    if (held === undefined || Date.parse(alert.ts) > Date.parse(held.ts)) newest.set(key, alert);
  }
  const seen = new Map<string, ThresholdLine>();
  for (const alert of newest.values()) {
    const key = `${alert.gas}\u0000${alert.op}\u0000${alert.threshold}\u0000${alert.unit}\u0000${alert.severity}`;
    if (seen.has(key)) continue;
    seen.set(key, {
      gas: alert.gas,
      value: alert.threshold,
      unit: alert.unit,
      severity: alert.severity,
      label: `${alert.severity} ${alert.op} ${alert.threshold} ${alert.unit}`,
    });
  }
  return [...seen.values()].sort((a, b) => a.value - b.value);
}

/**
 * Alarm periods' shading: strong enough to see at a glance on the white
 * plot (the fill alone changes blue by ~70 of 255 for a warning), with a
 * solid band along the top in the severity's colour.
 */
export const ALARM_SHADE: Readonly<Record<string, { fill: string; edge: string }>> = {
  critical: { fill: "rgba(200, 0, 0, 0.26)", edge: "#b00000" },
  warning: { fill: "rgba(235, 125, 0, 0.28)", edge: "#d06a00" },
};

/** Distinct, stable colours for lines: the same device gets the same colour on every chart. */
export function lineColor(index: number): string {
  const hue = (index * 137.508) % 360;
  return `hsl(${hue.toFixed(0)}, 70%, 42%)`;
}

/**
 * Thresholds worth drawing on a chart: those within `factor` x its highest
 * value (a 10,000 ppm H2 limit would flatten 5 ppm readings into the axis);
 * the rest are named instead. Pure.
 */
export function thresholdsInView(
  thresholds: ThresholdLine[],
  data: GasChartData,
  factor = 3,
): { shown: ThresholdLine[]; offScale: ThresholdLine[] } {
  let high = -Infinity;
  for (const values of data.max) {
    for (const value of values) if (value !== null) high = Math.max(high, value);
  }
  const limit = Number.isFinite(high) ? Math.max(high * factor, high + 1) : Infinity;
  return {
    shown: thresholds.filter((line) => line.value <= limit),
    offScale: thresholds.filter((line) => line.value > limit),
  };
}
