// The fleet dashboard served by sensord-ingest: filters, a chart per gas,
// a map, device last-seen times, latest alerts, CSV download, and the
// selected group's fleet thresholds (fleet-thresholds.ts).
import { clearApiKey, download, getJson, NeedsKeyError, setApiKey, useConfigFile } from "./api.js";
import { drawGasChart } from "./chart.js";
import {
  type AlertLike,
  alarmPeriods,
  type GasChartData,
  gasCharts,
  lineColor,
  type SeriesLine,
  type ThresholdLine,
  thresholdLines,
  thresholdsInView,
} from "./chart-data.js";
import { ThresholdsPanel } from "./fleet-thresholds.js";
import { drawMap } from "./map.js";
import {
  actionButton,
  element,
  emptyRow,
  formatAge,
  formatSpan,
  formatTime,
  nameCell,
  notice,
  RangePicker,
  row,
  timeCell,
} from "./page.js";
import { DEFAULT_PRESET, initialPreset, PRESETS, resolveRange } from "./time-range.js";
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
/** Alert events read for the thresholds the devices report (newest first, any time). */
const THRESHOLD_ALERTS = 1000;
const FILTERS = ["group", "device", "gas"] as const;

const groupSelect = element<HTMLSelectElement>("group");
const deviceSelect = element<HTMLSelectElement>("device");
const gasSelect = element<HTMLSelectElement>("gas");
const status = element<HTMLElement>("status");
const picker = new RangePicker(Object.keys(PRESETS), status, setState);
const charts = element<HTMLElement>("charts");
const thresholdsPanel = new ThresholdsPanel((error) => askForKey(error.sent));

window.sensordCharts = {};
let colorIndex = new Map<string, number>();
let drawing = 0;
/** The preset the page opened with when its URL named none (chosen from the data, once). */
let initial: string | null = null;
/** While the page waits for an API key, refreshes would replace the form being filled in. */
let awaitingKey = false;

function state(): URLSearchParams {
  return new URLSearchParams(location.search);
}

function rangeName(): string {
  return state().get("range") ?? initial ?? DEFAULT_PRESET;
}

function setState(changes: Record<string, string | null>): void {
  const params = state();
  for (const [name, value] of Object.entries(changes)) {
    if (value === null || value === "") params.delete(name);
    else params.set(name, value);
  }
  history.replaceState(null, "", params.size > 0 ? `?${params}` : location.pathname);
  useConfigFile();
  window.sensordReady = render();
}

/** The group/device/gas filters of the URL, as the server takes them. */
function filterParams(): URLSearchParams {
  const current = state();
  const params = new URLSearchParams();
  for (const name of FILTERS) {
    const value = current.get(name);
    if (value !== null && value !== "") params.set(name, value);
  }
  return params;
}

/** Filters as the server takes them: group/device/gas plus from/to in epoch ms. */
function queryParams(): { params: URLSearchParams; fromMs: number; toMs: number } {
  const current = state();
  const { fromMs, toMs } = resolveRange(
    rangeName(),
    current.get("from"),
    current.get("to"),
    Date.now(),
  );
  const params = filterParams();
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
  for (const value of [...new Set(values)].sort()) {
    const option = new Option(value, value);
    option.title = value;
    options.push(option);
  }
  // A filter naming something not in the list still shows as selected.
  if (selected !== null && selected !== "" && !values.includes(selected)) {
    options.push(new Option(selected, selected));
  }
  select.replaceChildren(...options);
  select.value = selected ?? "";
  select.title = selected ?? "";
}

/**
 * The range to open with: the shortest preset holding the data (time-range.ts
 * initialPreset), from the newest reading of each device and the oldest of
 * the last hour.
 */
async function chooseInitial(): Promise<string> {
  const nowMs = Date.now();
  const lastHour = filterParams();
  lastHour.set("from", String(nowMs - 3_600_000));
  lastHour.set("limit", "1");
  const [devices, first] = await Promise.all([
    getJson<{ devices: Device[] }>("/devices", filterParams()),
    getJson<{ readings: Array<{ ts: string }> }>("/readings", lastHour),
  ]);
  return initialPreset(
    first.readings[0] === undefined ? null : Date.parse(first.readings[0].ts),
    newestReading(devices.devices),
    nowMs,
  );
}

function newestReading(devices: Device[]): number | null {
  const newest = Math.max(...devices.map((device) => Date.parse(device.lastReadingAt)));
  return Number.isFinite(newest) ? newest : null;
}

async function render(): Promise<void> {
  const ticket = ++drawing;
  const started = performance.now();
  status.textContent = "loading...";
  try {
    if (initial === null && !state().has("range")) initial = await chooseInitial();
    if (ticket !== drawing) return;
    const current = state();
    const { params, fromMs, toMs } = queryParams();
    const width = Math.max(200, Math.floor(charts.clientWidth || 800));
    const seriesParams = new URLSearchParams(params);
    seriesParams.set("width", String(Math.min(2000, width)));
    // The panel reports its own failures: a charts problem must not hide the editor, nor the reverse.
    const panel = thresholdsPanel.refresh(current.get("group") || null);
    const [allDevices, series, alerts, reported] = await Promise.all([
      getJson<{ devices: Device[] }>("/devices", new URLSearchParams()),
      getJson<SeriesAnswer>("/readings/series", seriesParams),
      getJson<{ alerts: Alert[] }>("/alerts", withLimit(params, 1000)),
      // Thresholds come from alert events of any time, not just the range's.
      getJson<{ alerts: Alert[] }>("/alerts", withLimit(filterParams(), THRESHOLD_ALERTS)),
    ]);
    const thresholds = await reportedThresholds(series.lines, reported.alerts);
    if (ticket !== drawing) return;
    awaitingKey = false;
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
    picker.mark(rangeName(), fromMs, toMs);
    const shown = devices.filter(
      (device) =>
        (!current.get("group") || device.group === current.get("group")) &&
        (!current.get("device") || device.device === current.get("device")),
    );
    if (devices.length === 0) showNoDevices();
    else drawCharts(series, alerts.alerts, thresholds, shown, fromMs, toMs, width);
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
    await panel;
  } catch (error) {
    if (ticket !== drawing) return;
    if (error instanceof NeedsKeyError) {
      askForKey(error.sent);
      return;
    }
    status.textContent = `could not load: ${error instanceof Error ? error.message : String(error)}`;
    throw error;
  }
}

/**
 * The thresholds the devices report for the charted gases: from the newest
 * alert events, plus, for a gas none of those covers, its own newest events
 * (one noisy gas must not hide the rules of the others).
 */
async function reportedThresholds(lines: SeriesLine[], alerts: Alert[]): Promise<ThresholdLine[]> {
  const covered = new Set(alerts.map((alert) => alert.gas));
  const missing = [...new Set(lines.map((line) => line.gas))].filter((gas) => !covered.has(gas));
  const more = await Promise.all(
    missing.map((gas) => {
      const params = filterParams();
      params.set("gas", gas);
      return getJson<{ alerts: Alert[] }>("/alerts", withLimit(params, 100));
    }),
  );
  return thresholdLines([...alerts, ...more.flatMap((answer) => answer.alerts)]);
}

function withLimit(params: URLSearchParams, limit: number): URLSearchParams {
  const copy = new URLSearchParams(params);
  copy.set("limit", String(limit));
  return copy;
}

function clearCharts(): void {
  for (const chart of Object.values(window.sensordCharts)) chart.destroy();
  window.sensordCharts = {};
  charts.replaceChildren();
}

/** What a chart's title adds about its thresholds: none known, other units, off the scale. */
function thresholdNote(
  gas: GasChartData,
  all: ThresholdLine[],
): { shown: ThresholdLine[]; note?: string } {
  const units = gas.unit.split(", ");
  const forGas = all.filter((line) => line.gas === gas.gas);
  const sameUnit = forGas.filter((line) => units.includes(line.unit));
  const { shown, offScale } = thresholdsInView(sameUnit, gas);
  const notes: string[] = [];
  if (forGas.length === 0) notes.push("no threshold known (no device has sent an alert for it)");
  const otherUnits = forGas.filter((line) => !units.includes(line.unit));
  if (otherUnits.length > 0)
    notes.push(`thresholds in other units: ${otherUnits.map((line) => line.label).join(", ")}`);
  if (offScale.length > 0)
    notes.push(`thresholds off scale: ${offScale.map((line) => line.label).join(", ")}`);
  return notes.length === 0 ? { shown } : { shown, note: notes.join("; ") };
}

function drawCharts(
  series: SeriesAnswer,
  alerts: Alert[],
  thresholds: ThresholdLine[],
  devices: Device[],
  fromMs: number,
  toMs: number,
  width: number,
): void {
  clearCharts();
  const data = gasCharts(series.lines);
  if (data.length === 0) {
    showNoReadings(devices, fromMs);
    return;
  }
  const periods = alarmPeriods(alerts, fromMs, toMs);
  for (const gas of data) {
    const box = document.createElement("section");
    box.className = "chart";
    box.dataset.gas = gas.gas;
    charts.append(box);
    const { shown, note } = thresholdNote(gas, thresholds);
    box.dataset.thresholds = shown.map((line) => line.label).join("; ");
    window.sensordCharts[gas.gas] = drawGasChart(box, {
      data: gas,
      thresholds: shown,
      ...(note === undefined ? {} : { note }),
      alarms: periods.filter((period) => period.gas === gas.gas),
      colorOf: (device) => colorIndex.get(device) ?? 0,
      fromMs,
      toMs,
      width,
      height: 220,
    });
  }
}

/** Nobody has uploaded yet: how to point a sensord at this ingest. */
function showNoDevices(): void {
  clearCharts();
  const loopback = /^(localhost|127\.[\d.]+|\[::1\])$/.test(location.hostname);
  charts.append(
    notice("No device has uploaded to this ingest yet", [
      "To send a sensord's readings and alerts here, add this to its config (/etc/sensord/sensord.toml on the Pi):",
      { code: `[sync]\nendpoint = "${location.origin}/ingest"` },
      "then restart it (sudo systemctl restart sensord). sensorctl status on the Pi shows the uploads; " +
        "this page refreshes every 15 s. If this ingest was started with --api-key-file, the device also " +
        "needs api_key_file = a file holding that key.",
      ...(loopback
        ? [
            `This ingest listens on loopback (${location.host}): only this machine can reach it. ` +
              "Start sensord-ingest with --listen 0.0.0.0:PORT (and --api-key-file) for devices on the network.",
          ]
        : []),
    ]),
  );
}

/** Devices exist, but none of their readings is in this range and these filters. */
function showNoReadings(devices: Device[], fromMs: number): void {
  const parts: Array<string | HTMLElement> = [];
  const newest = newestReading(devices);
  if (newest !== null && newest < fromMs) {
    parts.push(
      `The newest reading${devices.length === 1 ? "" : " of these devices"} is from ${formatTime(new Date(newest).toISOString())} (${formatAge(newest)}).`,
    );
    const preset = initialPreset(null, newest, Date.now());
    if (preset !== rangeName() && (PRESETS[preset] ?? 0) > Date.now() - newest) {
      parts.push(
        actionButton(`Show the last ${preset}`, () =>
          setState({ range: preset, from: null, to: null }),
        ),
      );
    } else {
      parts.push(
        actionButton("Show the hour before it", () =>
          setState({
            range: "custom",
            from: String(newest - 3_600_000),
            to: String(newest + 60_000),
          }),
        ),
      );
    }
  }
  if (FILTERS.some((name) => state().get(name))) {
    parts.push(
      "Or widen the filters:",
      actionButton("Clear the filters", () => setState({ group: null, device: null, gas: null })),
    );
  }
  charts.append(notice("No readings match these filters in this time range", parts));
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
      nameCell(device.device),
      nameCell(device.group),
      device.gps ?? "-",
      {
        text: formatAge(Date.parse(device.lastReadingAt)),
        title: formatTime(device.lastReadingAt),
      },
      timeCell(device.lastSeenAt),
    ]),
  );
  if (rows.length === 0) rows.push(emptyRow("no device has uploaded yet", 5));
  element("devices").replaceChildren(...rows);
}

function drawAlerts(alerts: Alert[]): void {
  const rows = alerts.map((alert) => {
    const tr = row([
      timeCell(alert.ts),
      alert.kind === "raise" ? `ALARM ${alert.severity}` : "clear",
      nameCell(`${alert.device}/${alert.sensor}`),
      `${alert.gas} ${alert.value} ${alert.unit} (threshold ${alert.op} ${alert.threshold})`,
    ]);
    tr.className = alert.kind;
    return tr;
  });
  if (rows.length === 0) rows.push(emptyRow("no alerts in this range", 4));
  element("alerts").replaceChildren(...rows);
}

/** Asks for the key in the page (no prompt dialog), saying so when the one given was refused. */
function askForKey(wrong: boolean): void {
  if (wrong) clearApiKey();
  awaitingKey = true;
  clearCharts();
  const form = document.createElement("form");
  form.id = "key-form";
  const label = document.createElement("label");
  label.textContent = "API key ";
  const input = document.createElement("input");
  input.type = "password";
  input.id = "api-key";
  input.autocomplete = "off";
  label.append(input);
  const submit = document.createElement("button");
  submit.type = "submit";
  submit.textContent = "Use this key";
  form.append(label, " ", submit);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (key === "") return;
    setApiKey(key);
    useConfigFile();
    window.sensordReady = render();
  });
  const problem = document.createElement("p");
  problem.className = "problem";
  problem.textContent =
    "Wrong API key: the ingest refused it. It must be exactly the content of the file " +
    "sensord-ingest was started with (--api-key-file); check it and enter it again.";
  charts.append(
    notice(wrong ? "Wrong API key" : "This ingest needs its API key", [
      ...(wrong ? [problem] : []),
      "This sensord-ingest was started with --api-key-file: its data is shown only with that key " +
        "(the one its devices send as x-api-key). This page keeps it for this browser tab only.",
      form,
    ]),
  );
  status.textContent = wrong ? "wrong API key" : "an API key is needed to show data";
  input.focus();
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
    if (!awaitingKey) useConfigFile();
    window.sensordReady = render();
  }, 200);
});
// Relative ranges follow the clock; a custom range is fixed and is not refetched.
setInterval(() => {
  if (document.visibilityState === "visible" && rangeName() !== "custom" && !awaitingKey) {
    useConfigFile();
    window.sensordReady = render();
  }
}, REFRESH_MS);
useConfigFile();
window.sensordReady = render();
