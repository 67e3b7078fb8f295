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
  actionButton,
  breakAfterSeparators,
  element,
  emptyRow,
  formatAge,
  formatDuration,
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

/** `GET /api/extent`: the oldest and newest reading's time, null when there is none. */
interface Extent {
  oldest: string | null;
  newest: string | null;
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
/** The preset the page opened with when its URL named none (chosen from the data, once). */
let initial: string | null = null;
let extent: Extent = { oldest: null, newest: null };

function state(): URLSearchParams {
  return new URLSearchParams(location.search);
}

function isLive(): boolean {
  return rangeName() !== "custom";
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
  window.sensordReady = render();
}

function currentRange(): { fromMs: number; toMs: number } {
  const params = state();
  return resolveRange(rangeName(), params.get("from"), params.get("to"), Date.now());
}

function rangeParams(fromMs: number, toMs: number): URLSearchParams {
  return new URLSearchParams({ from: String(fromMs), to: String(toMs) });
}

async function render(): Promise<void> {
  const ticket = ++drawing;
  chartWidth = Math.max(200, Math.floor(charts.clientWidth || 800));
  const started = performance.now();
  statusLine.textContent = "loading...";
  try {
    const extentNow = (): Promise<Extent> => getJson<Extent>("/api/extent", new URLSearchParams());
    // The first range is chosen from the data, so only the first render waits for its extent.
    let pending: Promise<Extent> | null = null;
    if (initial === null && !state().has("range")) {
      extent = await extentNow();
      if (ticket !== drawing) return;
      const time = (iso: string | null) => (iso === null ? null : Date.parse(iso));
      initial = initialPreset(time(extent.oldest), time(extent.newest), Date.now());
    } else pending = extentNow();
    const { fromMs, toMs } = currentRange();
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
    if (pending !== null) extent = await pending;
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
    picker.mark(rangeName(), fromMs, toMs);
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
      showTokenNeeded(error.sent);
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
    showNoReadings(view.fromMs);
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
    box.dataset.thresholds = shown.map((line) => line.label).join("; ");
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

/** Nothing to draw in this range: why, and what to do next. */
function showNoReadings(fromMs: number): void {
  if (extent.newest === null) {
    charts.append(
      notice("sensord has stored no readings yet", [
        "Its sensors may still be starting or warming up (see Sensors), or failing to read: " +
          "the Sensors table shows their state and last error, and sensorctl status on the device says more. " +
          "Readings appear here as soon as they are committed.",
      ]),
    );
    return;
  }
  const newest = Date.parse(extent.newest);
  const parts: Array<string | HTMLElement> = [];
  if (newest < fromMs) {
    parts.push(`The newest reading is from ${formatTime(extent.newest)} (${formatAge(newest)}).`);
    const preset = initialPreset(null, newest, Date.now());
    parts.push(
      (PRESETS[preset] ?? 0) > Date.now() - newest && preset !== rangeName()
        ? actionButton(`Show the last ${preset}`, () =>
            setState({ range: preset, from: null, to: null }),
          )
        : actionButton("Show the hour before it", () =>
            setState({
              range: "custom",
              from: String(newest - 3_600_000),
              to: String(newest + 60_000),
            }),
          ),
    );
  } else parts.push("Pick another range above.");
  charts.append(notice("No readings in this time range", parts));
}

/** No token yet (or a wrong one): how to open the page with it. */
function showTokenNeeded(wrong: boolean): void {
  for (const chart of Object.values(window.sensordCharts)) chart.destroy();
  window.sensordCharts = {};
  const withToken = new URLSearchParams(location.search);
  withToken.set("token", "TOKEN");
  const problem = document.createElement("p");
  problem.className = "problem";
  problem.textContent =
    "Wrong token: the one this browser holds is not in this sensord's [http] token_file (was the file changed?).";
  charts.replaceChildren(
    notice(wrong ? "Wrong dashboard token" : "This sensord needs its dashboard token", [
      ...(wrong ? [problem] : []),
      "Open this page once with the token in its address; sensord keeps it in a cookie for this browser and " +
        "takes it out of the address bar:",
      {
        code: `${location.origin}/?${withToken.toString().replace("token=TOKEN", "token=<TOKEN>")}`,
      },
      "TOKEN is the content of the file [http] token_file names in the device's sensord.toml " +
        "(e.g. sudo cat /etc/sensord/http-token on the device).",
    ]),
  );
  statusLine.textContent = wrong
    ? "wrong dashboard token: open /?token=<token> again"
    : "This sensord needs its dashboard token: open this page once as /?token=<the token in [http] token_file>.";
}

function showStatus(status: Status): void {
  if (status.daemon !== null) {
    const title = element("title");
    title.textContent = `sensord ${status.daemon.device}`;
    title.title = title.textContent;
    document.title = `sensord ${status.daemon.device}`;
  }
  const alarmed = new Map(
    status.alarms.map((alarm) => [`${alarm.sensor}\u0000${alarm.gas}`, alarm.severity]),
  );
  const now = status.sensors.flatMap((sensor) =>
    sensor.values.map((value) => {
      const alarm = alarmed.get(`${sensor.id}\u0000${value.gas}`);
      const tr = row([
        nameCell(sensor.id),
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
  if (now.length === 0) now.push(emptyRow("no readings yet", 5));
  element("now").replaceChildren(...now);

  const alarms = status.alarms.map((alarm) => {
    // The rule is the cell that matters most: it wraps, never cut; the sensor's name may be.
    const tr = row([
      alarm.since === null ? "-" : timeCell(alarm.since),
      alarm.severity,
      nameCell(alarm.sensor),
      alarm.rule,
    ]);
    const rule = tr.cells[3];
    if (rule !== undefined) breakAfterSeparators(rule, alarm.rule);
    tr.className = "alarm";
    return tr;
  });
  if (alarms.length === 0) alarms.push(emptyRow("none", 4));
  element("alarms").replaceChildren(...alarms);

  element("sensors").replaceChildren(
    ...status.sensors.map((sensor) => {
      const stateText =
        sensor.state === "warming" && sensor.warmupLeftMs !== null
          ? `warming (${formatDuration(sensor.warmupLeftMs)} left)`
          : sensor.state;
      const tr = row([
        nameCell(sensor.id),
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
      timeCell(alert.ts),
      alert.kind === "raise" ? `ALARM ${alert.severity}` : "clear",
      nameCell(alert.sensor),
      `${alert.gas} ${alert.value} ${alert.unit} (threshold ${alert.op} ${alert.threshold})`,
    ]);
    tr.className = alert.kind;
    return tr;
  });
  if (rows.length === 0) rows.push(emptyRow("no alerts in this range", 4));
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
