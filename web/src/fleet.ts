// The fleet dashboard served by sensord-ingest: filters, a chart per gas,
// a map, device last-seen times, latest alerts, CSV download.
import { download, getJson, NeedsKeyError, setApiKey } from "./api.js";
import { drawGasChart } from "./chart.js";
import {
  type AlertLike,
  alarmPeriods,
  gasCharts,
  lineColor,
  type SeriesLine,
  thresholdLines,
} from "./chart-data.js";
import { drawMap } from "./map.js";
import { element, formatAge, formatSpan, formatTime, RangePicker, row } from "./page.js";
import { DEFAULT_PRESET, PRESETS, resolveRange } from "./time-range.js";
import type uPlot from "./uplot.js";

interface Device {
  device: string;
  group: string;
  gps?: string;
  lastReadingAt: string;
  lastSeenAt: string;
  gases: string[];
}

interface Alert extends AlertLike {
  id: string;
  group: string;
  value: number;
}

interface SeriesAnswer {
  from: string;
  to: string;
  bucketMs: number;
  buckets: number;
  lines: SeriesLine[];
}

declare global {
  interface Window {
    /** The drawn charts by gas, for tests and the curious (devtools). */
    sensordCharts: Record<string, uPlot>;
    /** Resolves when the current filters have been drawn. */
    sensordReady: Promise<void>;
  }
}

const REFRESH_MS = 15_000;
const ALERT_ROWS = 20;

const groupSelect = element<HTMLSelectElement>("group");
const deviceSelect = element<HTMLSelectElement>("device");
const gasSelect = element<HTMLSelectElement>("gas");
const status = element<HTMLElement>("status");
const picker = new RangePicker(Object.keys(PRESETS), status, setState);
const charts = element<HTMLElement>("charts");

window.sensordCharts = {};
let colorIndex = new Map<string, number>();
let drawing = 0;

function state(): URLSearchParams {
  return new URLSearchParams(location.search);
}

function setState(changes: Record<string, string | null>): void {
  const params = state();
  for (const [name, value] of Object.entries(changes)) {
    if (value === null || value === "") params.delete(name);
    else params.set(name, value);
  }
  history.replaceState(null, "", params.size > 0 ? `?${params}` : location.pathname);
  window.sensordReady = render();
}

/** Filters as the server takes them: group/device/gas plus from/to in epoch ms. */
function queryParams(): { params: URLSearchParams; fromMs: number; toMs: number } {
  const current = state();
  const { fromMs, toMs } = resolveRange(
    current.get("range") ?? DEFAULT_PRESET,
    current.get("from"),
    current.get("to"),
    Date.now(),
  );
  const params = new URLSearchParams();
  for (const name of ["group", "device", "gas"]) {
    const value = current.get(name);
    if (value !== null && value !== "") params.set(name, value);
  }
  params.set("from", String(fromMs));
  params.set("to", String(toMs));
  return { params, fromMs, toMs };
}

function fillSelect(
  select: HTMLSelectElement,
  values: string[],
  selected: string | null,
  all: string,
): void {
  const options = [new Option(all, "")];
  for (const value of [...new Set(values)].sort()) options.push(new Option(value, value));
  // A filter naming something not in the list still shows as selected.
  if (selected !== null && selected !== "" && !values.includes(selected)) {
    options.push(new Option(selected, selected));
  }
  select.replaceChildren(...options);
  select.value = selected ?? "";
}

async function render(): Promise<void> {
  const ticket = ++drawing;
  const current = state();
  const { params, fromMs, toMs } = queryParams();
  const width = Math.max(300, Math.floor(charts.clientWidth || 800));
  const seriesParams = new URLSearchParams(params);
  seriesParams.set("width", String(Math.min(2000, width)));
  const started = performance.now();
  status.textContent = "loading...";
  try {
    const [allDevices, series, alerts] = await Promise.all([
      getJson<{ devices: Device[] }>("/devices", new URLSearchParams()),
      getJson<SeriesAnswer>("/readings/series", seriesParams),
      getJson<{ alerts: Alert[] }>("/alerts", withLimit(params, 1000)),
    ]);
    if (ticket !== drawing) return;
    const devices = allDevices.devices;
    colorIndex = new Map(devices.map((device, index) => [device.device, index]));
    fillSelect(
      groupSelect,
      devices.map((device) => device.group),
      current.get("group"),
      "all groups",
    );
    fillSelect(
      deviceSelect,
      devices
        .filter((device) => !current.get("group") || device.group === current.get("group"))
        .map((device) => device.device),
      current.get("device"),
      "all devices",
    );
    fillSelect(
      gasSelect,
      devices.flatMap((device) => device.gases),
      current.get("gas"),
      "all gases",
    );
    picker.mark(current.get("range") ?? DEFAULT_PRESET, fromMs, toMs);
    drawCharts(series, alerts.alerts, fromMs, toMs, width);
    const shown = devices.filter(
      (device) =>
        (!current.get("group") || device.group === current.get("group")) &&
        (!current.get("device") || device.device === current.get("device")),
    );
    drawDevices(shown, alerts.alerts);
    drawAlerts(alerts.alerts.slice(0, ALERT_ROWS));
    const readings = series.lines.reduce(
      (sum, line) => sum + line.count.reduce((a, b) => a + b, 0),
      0,
    );
    status.textContent =
      `${readings.toLocaleString()} readings in ${series.lines.length} lines, ` +
      `${formatSpan(series.bucketMs)} buckets, ${(performance.now() - started).toFixed(0)} ms`;
    status.dataset.readings = String(readings);
  } catch (error) {
    if (ticket !== drawing) return;
    if (error instanceof NeedsKeyError) {
      askForKey();
      return;
    }
    status.textContent = `could not load: ${error instanceof Error ? error.message : String(error)}`;
    throw error;
  }
}

function withLimit(params: URLSearchParams, limit: number): URLSearchParams {
  const copy = new URLSearchParams(params);
  copy.set("limit", String(limit));
  return copy;
}

function drawCharts(
  series: SeriesAnswer,
  alerts: Alert[],
  fromMs: number,
  toMs: number,
  width: number,
): void {
  for (const chart of Object.values(window.sensordCharts)) chart.destroy();
  window.sensordCharts = {};
  charts.replaceChildren();
  const data = gasCharts(series.lines);
  if (data.length === 0) {
    const empty = document.createElement("p");
    empty.className = "empty";
    empty.textContent = "No readings match these filters in this time range.";
    charts.append(empty);
    return;
  }
  const periods = alarmPeriods(alerts, fromMs, toMs);
  const thresholds = thresholdLines(alerts);
  for (const gas of data) {
    const box = document.createElement("section");
    box.className = "chart";
    box.dataset.gas = gas.gas;
    charts.append(box);
    window.sensordCharts[gas.gas] = drawGasChart(box, {
      data: gas,
      thresholds: thresholds.filter((line) => line.gas === gas.gas),
      alarms: periods.filter((period) => period.gas === gas.gas),
      colorOf: (device) => colorIndex.get(device) ?? 0,
      fromMs,
      toMs,
      width,
      height: 220,
    });
  }
}

function drawDevices(devices: Device[], alerts: Alert[]): void {
  const alarmed = new Set(
    alarmPeriods(alerts, 0, Date.now() + 1)
      .filter((period) => period.endMs > Date.now())
      .map((period) => period.device),
  );
  drawMap(
    element("map"),
    devices.map((device) => ({
      ...device,
      color: lineColor(colorIndex.get(device.device) ?? 0),
      alarm: alarmed.has(device.device),
    })),
    element("map").clientWidth || 400,
    260,
  );
  const rows = devices.map((device) =>
    row([
      device.device,
      device.group,
      device.gps ?? "-",
      `${formatAge(Date.parse(device.lastReadingAt))} (${formatTime(device.lastReadingAt)})`,
      formatTime(device.lastSeenAt),
    ]),
  );
  element("devices").replaceChildren(...rows);
}

function drawAlerts(alerts: Alert[]): void {
  const rows = alerts.map((alert) => {
    const tr = row([
      formatTime(alert.ts),
      alert.kind === "raise" ? `ALARM ${alert.severity}` : "clear",
      `${alert.device}/${alert.sensor}`,
      `${alert.gas} ${alert.value} ${alert.unit} (threshold ${alert.op} ${alert.threshold})`,
    ]);
    tr.className = alert.kind;
    return tr;
  });
  if (rows.length === 0) rows.push(row(["no alerts in this range", "", "", ""]));
  element("alerts").replaceChildren(...rows);
}

function askForKey(): void {
  const key = prompt("This sensord-ingest needs its API key (kept for this tab only):");
  if (key !== null && key.trim() !== "") {
    setApiKey(key.trim());
    window.sensordReady = render();
  } else {
    status.textContent = "an API key is needed to show data";
  }
}

groupSelect.addEventListener("change", () => setState({ group: groupSelect.value, device: null }));
deviceSelect.addEventListener("change", () => setState({ device: deviceSelect.value }));
gasSelect.addEventListener("change", () => setState({ gas: gasSelect.value }));
element("csv").addEventListener("click", () => {
  const { params } = queryParams();
  void download("/readings.csv", params, "readings.csv").catch((error: unknown) => {
    status.textContent = `download failed: ${error instanceof Error ? error.message : String(error)}`;
  });
});
let resizeTimer = 0;
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = window.setTimeout(() => {
    window.sensordReady = render();
  }, 200);
});
// Relative ranges follow the clock; a custom range is fixed and is not refetched.
setInterval(() => {
  if (document.visibilityState === "visible" && state().get("range") !== "custom") {
    window.sensordReady = render();
  }
}, REFRESH_MS);
window.sensordReady = render();
