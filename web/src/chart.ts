// uPlot charts for gas readings: one line (bucket average) per device, the
// bucket min..max as a band around it, threshold lines, shaded alarm periods.
// Shared by the fleet and device dashboards.
import type { AlarmPeriod, GasChartData, ThresholdLine } from "./chart-data.js";
import { ALARM_SHADE, lineColor } from "./chart-data.js";
import { contentWidth } from "./page.js";
import uPlot from "./uplot.js";

export interface GasChartOptions {
  data: GasChartData;
  thresholds: ThresholdLine[];
  alarms: AlarmPeriod[];
  /** Colour index per device, so a device has one colour on every chart. */
  colorOf: (device: string) => number;
  fromMs: number;
  toMs: number;
  /** Used when `target` is not laid out yet; else the chart takes the width `target` gives it. */
  width: number;
  height: number;
  /** Appended to the title, e.g. thresholds that are off the chart's scale. */
  note?: string;
}

/**
 * Draws a chart into `target` (replacing what was there); returns the uPlot
 * instance. The chart is as wide as `target`'s content, never wider.
 */
export function drawGasChart(target: HTMLElement, options: GasChartOptions): uPlot {
  target.replaceChildren();
  const width = contentWidth(target) > 0 ? contentWidth(target) : options.width;
  const { data } = options;
  const series: uPlot.Series[] = [{}];
  data.lines.forEach((line) => {
    series.push({
      label: line.label,
      stroke: lineColor(options.colorOf(line.device)),
      width: 1.5,
      spanGaps: false,
      points: { show: false },
      value: (_u, value) => (value === null || value === undefined ? "-" : value.toFixed(2)),
    });
  });
  const [low, high] = valueRange(data, options.thresholds);
  const chart = new uPlot(
    {
      title: `${data.gas} (${data.unit})${options.note === undefined ? "" : `: ${options.note}`}`,
      width,
      height: options.height,
      series,
      scales: {
        x: { time: true, range: () => [options.fromMs / 1000, options.toMs / 1000] },
        y: { range: () => [low, high] },
      },
      axes: [{}, { label: data.unit, size: 60 }],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      hooks: {
        drawClear: [(u) => drawAlarms(u, options.alarms)],
        draw: [(u) => drawBands(u, options), (u) => drawThresholds(u, options.thresholds)],
      },
    },
    [data.x, ...data.avg],
    target,
  );
  // Long names are shortened (and cut by CSS past its width); the title gives them whole.
  const labels = target.querySelectorAll<HTMLElement>(".u-legend .u-label");
  labels.forEach((label, at) => {
    // The first entry is the time; the lines follow in order.
    label.title = at === 0 ? (label.textContent ?? "") : (data.lines[at - 1]?.name ?? "");
  });
  return chart;
}

/** The y range showing every min, max and threshold, with a little room around. */
function valueRange(data: GasChartData, thresholds: ThresholdLine[]): [number, number] {
  let low = Infinity;
  let high = -Infinity;
  for (const values of [...data.min, ...data.max]) {
    for (const value of values) {
      if (value === null) continue;
      low = Math.min(low, value);
      high = Math.max(high, value);
    }
  }
  for (const threshold of thresholds) {
    low = Math.min(low, threshold.value);
    high = Math.max(high, threshold.value);
  }
  if (!Number.isFinite(low)) return [0, 1];
  const room = (high - low) * 0.05 || Math.abs(high) * 0.05 || 1;
  return [Math.max(low >= 0 ? 0 : -Infinity, low - room), high + room];
}

function drawAlarms(u: uPlot, alarms: AlarmPeriod[]): void {
  const { ctx, bbox } = u;
  ctx.save();
  const band = Math.round(4 * devicePixelRatio);
  for (const alarm of alarms) {
    const x0 = Math.max(bbox.left, u.valToPos(alarm.startMs / 1000, "x", true));
    const x1 = Math.min(bbox.left + bbox.width, u.valToPos(alarm.endMs / 1000, "x", true));
    if (x1 <= x0) continue;
    const shade = ALARM_SHADE[alarm.severity] ?? ALARM_SHADE.warning;
    if (shade === undefined) continue;
    // At least 2 px: a 5-second alarm in a week's view is still a visible stripe.
    const w = Math.max(2 * devicePixelRatio, x1 - x0);
    ctx.fillStyle = shade.fill;
    ctx.fillRect(x0, bbox.top, w, bbox.height);
    ctx.fillStyle = shade.edge;
    ctx.fillRect(x0, bbox.top, w, band);
  }
  ctx.restore();
}

/** min..max of each bucket as a translucent band: a 5-second spike stays visible in a week's view. */
function drawBands(u: uPlot, options: GasChartOptions): void {
  const { ctx } = u;
  const { data } = options;
  ctx.save();
  data.lines.forEach((line, index) => {
    const mins = data.min[index] ?? [];
    const maxs = data.max[index] ?? [];
    ctx.fillStyle = lineColor(options.colorOf(line.device))
      .replace("hsl(", "hsla(")
      .replace(")", ", 0.18)");
    let run: number[] = [];
    const flush = (): void => {
      if (run.length > 0) fillBand(u, data.x, mins, maxs, run);
      run = [];
    };
    for (let at = 0; at < data.x.length; at++) {
      if (mins[at] === null || maxs[at] === null || mins[at] === undefined) flush();
      else run.push(at);
    }
    flush();
  });
  ctx.restore();
}

function fillBand(
  u: uPlot,
  xs: number[],
  mins: (number | null)[],
  maxs: (number | null)[],
  run: number[],
): void {
  const { ctx } = u;
  const x = (at: number): number => u.valToPos(xs[at] ?? 0, "x", true);
  const y = (value: number | null | undefined): number => u.valToPos(value ?? 0, "y", true);
  ctx.beginPath();
  const first = run[0] ?? 0;
  ctx.moveTo(x(first), y(maxs[first]));
  for (const at of run) ctx.lineTo(x(at), y(maxs[at]));
  for (let k = run.length - 1; k >= 0; k--) {
    const at = run[k] ?? 0;
    ctx.lineTo(x(at), y(mins[at]));
  }
  ctx.closePath();
  ctx.fill();
  // A lone bucket has no area: a short vertical bar shows its range.
  if (run.length === 1)
    ctx.fillRect(x(first) - 1, y(maxs[first]), 2, y(mins[first]) - y(maxs[first]) || 1);
}

function drawThresholds(u: uPlot, thresholds: ThresholdLine[]): void {
  const { ctx, bbox } = u;
  ctx.save();
  ctx.setLineDash([6, 4]);
  ctx.lineWidth = Math.max(1, devicePixelRatio);
  ctx.font = `${Math.round(11 * devicePixelRatio)}px sans-serif`;
  // uPlot leaves the alignment its axes last used.
  ctx.textAlign = "left";
  ctx.textBaseline = "bottom";
  for (const threshold of thresholds) {
    const y = u.valToPos(threshold.value, "y", true);
    if (y < bbox.top || y > bbox.top + bbox.height) continue;
    ctx.strokeStyle = threshold.severity === "critical" ? "#b00000" : "#c86400";
    ctx.fillStyle = ctx.strokeStyle;
    ctx.beginPath();
    ctx.moveTo(bbox.left, y);
    ctx.lineTo(bbox.left + bbox.width, y);
    ctx.stroke();
    ctx.fillText(threshold.label, bbox.left + 4, y - 4);
  }
  ctx.restore();
}
