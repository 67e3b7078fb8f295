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
  lines: { label: string; device: string }[];
  x: number[];
  avg: (number | null)[][];
  min: (number | null)[][];
  max: (number | null)[][];
}

/** Groups lines by gas (in first-seen order) and aligns each gas's lines on the union of their buckets. */
export function gasCharts(lines: SeriesLine[]): GasChartData[] {
  const byGas = new Map<string, SeriesLine[]>();
  for (const line of lines) {
    const list = byGas.get(line.gas);
    if (list === undefined) byGas.set(line.gas, [line]);
    else list.push(line);
  }
  const charts: GasChartData[] = [];
  for (const [gas, gasLines] of byGas) {
    const times = [...new Set(gasLines.flatMap((line) => line.t))].sort((a, b) => a - b);
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
      lines: gasLines.map((line) => ({
        device: line.device,
        // The sensor name only when it is needed to tell two lines of one device apart.
        label: devices.size === gasLines.length ? line.device : `${line.device}/${line.sensor}`,
      })),
      x: times.map((time) => time / 1000),
      avg: gasLines.map((line) => aligned(line, line.avg)),
      min: gasLines.map((line) => aligned(line, line.min)),
      max: gasLines.map((line) => aligned(line, line.max)),
    });
  }
  return charts;
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

/** The distinct thresholds seen in alert events, per gas: the fleet's rules as the devices reported them. */
export function thresholdLines(alerts: AlertLike[]): ThresholdLine[] {
  const seen = new Map<string, ThresholdLine>();
  for (const alert of alerts) {
    const key = `${alert.gas}\u0000${alert.threshold}\u0000${alert.unit}\u0000${alert.severity}`;
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

/** Distinct, stable colours for lines: the same device gets the same colour on every chart. */
export function lineColor(index: number): string {
  const hue = (index * 137.508) % 360;
  return `hsl(${hue.toFixed(0)}, 70%, 42%)`;
}
