// The device dashboard served by sensord: a chart per gas with threshold
// lines and alarm periods, live over server-sent events; current values,
// alarms, sensor states, buffer and sync health; CSV of the selected range.
import { download, getJson, NeedsKeyError } from "./api.js";
import { drawGasChart } from "./chart.js";
import {
  type AlertLike,
  alarmPeriods,
  gasCharts,
  type ThresholdLine,
  thresholdsInView,
} from "./chart-data.js";
import { advance, type LiveReading, type LiveView } from "./live.js";
import {
  element,
  formatAge,
  formatDuration,
  formatSpan,
  formatTime,
  RangePicker,
  row,
} from "./page.js";
import { DEFAULT_PRESET, PRESETS, resolveRange } from "./time-range.js";
import type uPlot from "./uplot.js";

/** The parts of sensord's StatusReport (daemon/control/status.ts) this page shows. */
interface Status {
  daemon: { device: string; version: string; uptimeMs: number } | null;
  sensors: Array<{
    id: string;
    driver: string | null;
    state: string;
    warmupLeftMs: number | null;
    errorCount: number;
    lastError: string | null;
    values: Array<{ gas: string; value: number; unit: string; ts: string; ageMs: number }>;
  }>;
  alarms: Array<{
    rule: string;
    sensor: string;
    gas: string;
    severity: string;
    since: string | null;
  }>;
  buffer: {
    uncommitted: number | null;
    uploadPending: number | null;
    oldestPendingAgeMs: number | null;
    databaseBytes: number;
    maxBytes: number;
    droppedReadings: number;
  };
  sync: {
    state: string | null;
    endpoint: string;
    lastSuccessAt: string | null;
    lastError: string | null;
    pending: number;
  } | null;
  mqtt: {
    state: string;
    connected: boolean;
    broker: string;
    queued: number;
    lastDeliveredAt: string | null;
    lastError: string | null;
  } | null;
}

interface AlertEvent {
  id: string;
  rule: string;
  sensor: string;
  gas: string;
  kind: "raise" | "clear";
  value: number;
  unit: string;
  threshold: number;
  op: string;
  severity: string;
  ts: string;
}

interface SeriesAnswer extends Omit<LiveView, "anchorMs" | "fromMs" | "toMs" | "lastSeq"> {
  from: string;
  to: string;
  lastSeq: number;
}

interface Tick {
  status: Status;
  readings: LiveReading[];
  alerts: AlertEvent[];
  reset: boolean;
}

declare global {
  interface Window {
    sensordCharts: Record<string, uPlot>;
    sensordReady: Promise<void>;
    /** Live ticks received, and the readings they carried (tests wait on these). */
    sensordLive: { ticks: number; readings: number };
    /** What the charts are drawn from (tests compare it with the database). */
    sensordView: LiveView | null;
  }
}

const ALERT_ROWS = 30;
const statusLine = element<HTMLElement>("status");
const picker = new RangePicker(Object.keys(PRESETS), statusLine, setState);
const charts = element<HTMLElement>("charts");

window.sensordCharts = {};
window.sensordLive = { ticks: 0, readings: 0 };
let view: LiveView | null = null;
let thresholds: ThresholdLine[] = [];
let alerts: AlertEvent[] = [];
let openAtStart: AlertEvent[] = [];
let feed: EventSource | null = null;
/**
 * Readings of the last ticks: a range fetched while they arrived may end
 * before them, and advance() skips what the view already holds.
 */
let recent: LiveReading[] = [];
const RECENT_READINGS = 20_000;
let drawing = 0;
let chartWidth = 800;

function state(): URLSearchParams {
  return new URLSearchParams(location.search);
}

function isLive(): boolean {
  return state().get("range") !== "custom";
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

function currentRange(): { fromMs: number; toMs: number } {
  const params = state();
  return resolveRange(
    params.get("range") ?? DEFAULT_PRESET,
    params.get("from"),
    params.get("to"),
    Date.now(),
  );
}

function rangeParams(fromMs: number, toMs: number): URLSearchParams {
  return new URLSearchParams({ from: String(fromMs), to: String(toMs) });
}

async function render(): Promise<void> {
  const ticket = ++drawing;
  const { fromMs, toMs } = currentRange();
  chartWidth = Math.max(300, Math.floor(charts.clientWidth || 800));
  const started = performance.now();
  statusLine.textContent = "loading...";
  try {
    const seriesParams = rangeParams(fromMs, toMs);
    seriesParams.set("width", String(Math.min(2000, chartWidth)));
    const alertParams = rangeParams(fromMs, toMs);
    alertParams.set("limit", "1000");
    const [series, lines, found, status] = await Promise.all([
      getJson<SeriesAnswer>("/api/series", seriesParams),
      getJson<{ lines: ThresholdLine[] }>("/api/thresholds", new URLSearchParams()),
      getJson<{ alerts: AlertEvent[]; openAtStart: AlertEvent[] }>("/api/alerts", alertParams),
      getJson<Status>("/api/status", new URLSearchParams()),
    ]);
    if (ticket !== drawing) return;
    view = {
      anchorMs: Date.parse(series.from),
      bucketMs: series.bucketMs,
      fromMs,
      toMs,
      lastSeq: series.lastSeq,
      lines: series.lines,
    };
    if (isLive()) advance(view, recent, Date.now());
    window.sensordView = view;
    thresholds = lines.lines;
    alerts = found.alerts;
    openAtStart = found.openAtStart;
    picker.mark(state().get("range") ?? DEFAULT_PRESET, fromMs, toMs);
    drawCharts();
    showStatus(status);
    drawAlerts();
    const readings = series.lines.reduce(
      (sum, line) => sum + line.count.reduce((a, b) => a + b, 0),
      0,
    );
    statusLine.textContent =
      `${readings.toLocaleString()} readings, ${formatSpan(series.bucketMs)} buckets, ` +
      `${(performance.now() - started).toFixed(0)} ms${isLive() ? ", live" : ""}`;
    statusLine.dataset.readings = String(readings);
    if (feed === null) connect(series.lastSeq);
  } catch (error) {
    if (ticket !== drawing) return;
    if (error instanceof NeedsKeyError) {
      statusLine.textContent =
        "This sensord needs its dashboard token: open this page once as /?token=<the token in [http] token_file>.";
      return;
    }
    statusLine.textContent = `could not load: ${error instanceof Error ? error.message : String(error)}`;
    throw error;
  }
}

/** Opens the live feed right after the readings first drawn; EventSource resumes it after a drop. */
function connect(lastSeq: number): void {
  feed = new EventSource(`/api/events?after=r${lastSeq}`);
  feed.addEventListener("tick", (event) => {
    const tick = JSON.parse((event as MessageEvent<string>).data) as Tick;
    window.sensordLive.ticks++;
    window.sensordLive.readings += tick.readings.length;
    recent = [...recent, ...tick.readings].slice(-RECENT_READINGS);
    showStatus(tick.status);
    if (tick.reset) {
      window.sensordReady = render();
      return;
    }
    if (tick.alerts.length > 0) {
      alerts = [...tick.alerts.reverse(), ...alerts];
      drawAlerts();
    }
    if (view !== null && isLive()) {
      advance(view, tick.readings, Date.now());
      drawCharts();
    }
  });
}

function drawCharts(): void {
  if (view === null) return;
  for (const chart of Object.values(window.sensordCharts)) chart.destroy();
  window.sensordCharts = {};
  charts.replaceChildren();
  // Lines are per sensor on a device: the chart helpers key colours and labels by `device`.
  const perSensor = view.lines.map((line) => ({ ...line, device: line.sensor }));
  const data = gasCharts(perSensor, view.bucketMs);
  if (data.length === 0) {
    const empty = document.createElement("p");
    empty.className = "empty";
    empty.textContent = "No readings in this time range.";
    charts.append(empty);
    return;
  }
  const sensors = [...new Set(perSensor.map((line) => line.sensor))].sort();
  const periods = alarmPeriods(
    [...openAtStart, ...alerts].map((alert): AlertLike => ({ ...alert, device: alert.sensor })),
    view.fromMs,
    view.toMs,
  );
  for (const gas of data) {
    const box = document.createElement("section");
    box.className = "chart";
    box.dataset.gas = gas.gas;
    box.dataset.readings = String(
      view.lines
        .filter((line) => line.gas === gas.gas)
        .reduce((sum, line) => sum + line.count.reduce((a, b) => a + b, 0), 0),
    );
    charts.append(box);
    const { shown, offScale } = thresholdsInView(
      thresholds.filter((line) => line.gas === gas.gas && gas.unit.split(", ").includes(line.unit)),
      gas,
    );
    window.sensordCharts[gas.gas] = drawGasChart(box, {
      data: gas,
      thresholds: shown,
      ...(offScale.length === 0
        ? {}
        : { note: `thresholds off scale: ${offScale.map((line) => line.label).join(", ")}` }),
      alarms: periods.filter((period) => period.gas === gas.gas),
      colorOf: (sensor) => sensors.indexOf(sensor),
      fromMs: view.fromMs,
      toMs: view.toMs,
      width: chartWidth,
      height: 220,
    });
  }
}

function showStatus(status: Status): void {
  if (status.daemon !== null) {
    element("title").textContent = `sensord ${status.daemon.device}`;
    document.title = `sensord ${status.daemon.device}`;
  }
  const alarmed = new Map(
    status.alarms.map((alarm) => [`${alarm.sensor}\u0000${alarm.gas}`, alarm.severity]),
  );
  const now = status.sensors.flatMap((sensor) =>
    sensor.values.map((value) => {
      const alarm = alarmed.get(`${sensor.id}\u0000${value.gas}`);
      const tr = row([
        sensor.id,
        value.gas,
        `${value.value} ${value.unit}`,
        alarm === undefined ? sensor.state : `ALARM ${alarm}`,
        `${formatDuration(value.ageMs)} ago`,
      ]);
      tr.dataset.gas = value.gas;
      if (alarm !== undefined) tr.className = "alarm";
      return tr;
    }),
  );
  if (now.length === 0) now.push(row(["no readings yet", "", "", "", ""]));
  element("now").replaceChildren(...now);

  const alarms = status.alarms.map((alarm) => {
    const tr = row([
      alarm.since === null ? "-" : formatTime(alarm.since),
      alarm.severity,
      `${alarm.sensor} ${alarm.gas}`,
      alarm.rule,
    ]);
    tr.className = "alarm";
    return tr;
  });
  if (alarms.length === 0) alarms.push(row(["none", "", "", ""]));
  element("alarms").replaceChildren(...alarms);

  element("sensors").replaceChildren(
    ...status.sensors.map((sensor) => {
      const stateText =
        sensor.state === "warming" && sensor.warmupLeftMs !== null
          ? `warming (${formatDuration(sensor.warmupLeftMs)} left)`
          : sensor.state;
      const tr = row([
        sensor.id,
        sensor.driver ?? "-",
        stateText,
        sensor.errorCount === 0 ? "0" : `${sensor.errorCount}: ${sensor.lastError ?? ""}`,
      ]);
      tr.dataset.sensor = sensor.id;
      tr.cells[2]?.classList.add(sensor.state);
      return tr;
    }),
  );

  const { buffer, sync, mqtt } = status;
  const health: Array<[string, string]> = [
    ["Not yet committed", String(buffer.uncommitted ?? "-")],
    [
      "Database",
      `${(buffer.databaseBytes / 1048576).toFixed(1)} of ${(buffer.maxBytes / 1048576).toFixed(0)} MiB`,
    ],
    ["Readings dropped", String(buffer.droppedReadings)],
  ];
  if (sync === null) health.push(["Upload", "off (no [sync])"]);
  else {
    health.push(
      ["Upload", `${sync.state ?? "-"} to ${sync.endpoint}`],
      ["Pending upload", `${sync.pending}`],
      [
        "Oldest pending",
        buffer.oldestPendingAgeMs === null ? "-" : formatDuration(buffer.oldestPendingAgeMs),
      ],
      [
        "Last upload",
        sync.lastSuccessAt === null ? "never" : formatAge(Date.parse(sync.lastSuccessAt)),
      ],
    );
    if (sync.lastError !== null) health.push(["Upload error", sync.lastError]);
  }
  if (mqtt === null) health.push(["MQTT", "off (no [mqtt])"]);
  else {
    health.push(
      ["MQTT", `${mqtt.connected ? "connected" : mqtt.state} to ${mqtt.broker}`],
      ["Alerts waiting", String(mqtt.queued)],
    );
    if (mqtt.lastError !== null) health.push(["MQTT error", mqtt.lastError]);
  }
  element("health").replaceChildren(
    ...health.map(([name, value]) => {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      th.textContent = name;
      const td = document.createElement("td");
      td.textContent = value;
      tr.append(th, td);
      return tr;
    }),
  );
}

function drawAlerts(): void {
  const rows = alerts.slice(0, ALERT_ROWS).map((alert) => {
    const tr = row([
      formatTime(alert.ts),
      alert.kind === "raise" ? `ALARM ${alert.severity}` : "clear",
      alert.sensor,
      `${alert.gas} ${alert.value} ${alert.unit} (threshold ${alert.op} ${alert.threshold})`,
    ]);
    tr.className = alert.kind;
    return tr;
  });
  if (rows.length === 0) rows.push(row(["no alerts in this range", "", "", ""]));
  element("alerts").replaceChildren(...rows);
}

element("csv").addEventListener("click", () => {
  const { fromMs, toMs } = view ?? currentRange();
  void download("/api/readings.csv", rangeParams(fromMs, toMs), "readings.csv").catch(
    (error: unknown) => {
      statusLine.textContent = `download failed: ${error instanceof Error ? error.message : String(error)}`;
    },
  );
});
let resizeTimer = 0;
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = window.setTimeout(() => {
    window.sensordReady = render();
  }, 200);
});
window.sensordReady = render();
