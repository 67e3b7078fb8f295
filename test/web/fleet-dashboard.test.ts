import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BatchReading } from "../../schemas/batch.js";
import {
  alertPair,
  deviceReadings,
  type FleetDevice,
  uploadAlerts,
  uploadReadings,
} from "../cloud/fleet-fixtures.js";
import { STORE_KINDS } from "../cloud/helpers.js";
import { makeTempDir } from "../support/processes.js";
import { collectErrors, screenshot } from "./browser.js";
import { useFleetPages } from "./fleet-pages.js";

/**
 * A real sensord-ingest (the built binary) on each store, over a database
 * filled through POST /ingest, and the fleet page in real headless
 * Chromium. What the page draws is checked against what the test sent.
 */
const NOW = Date.now();
const MIN = 60_000;
let url: string;
const temp = makeTempDir("sensord-fleet-web-");

interface Sent extends BatchReading {
  device: string;
  group: string;
}
const sent: Sent[] = [];

async function upload(device: FleetDevice, readings: BatchReading[]): Promise<void> {
  await uploadReadings(url, device, readings);
  for (const reading of readings) sent.push({ ...reading, device: device.id, group: device.group });
}

const fleet = useFleetPages(temp);

/** Starts sensord-ingest on `kind` and fills it with the same fleet. */
async function startFleet(kind: (typeof STORE_KINDS)[number]): Promise<void> {
  sent.length = 0;
  url = await fleet.start(kind);
  // pi-a (group 1): co + no2 from 50 to 25 min ago, one every 10 s.
  await upload(
    { id: "pi-a", group: "1", gps: "37.56, 126.97" },
    deviceReadings("pi-a", ["co", "no2"], NOW - 50 * MIN, 10_000, 150, 11),
  );
  // pi-b (group 2): co only, the last 10 min only, one every 5 s.
  await upload(
    { id: "pi-b", group: "2", gps: "37.45, 126.70" },
    deviceReadings("pi-b", ["co"], NOW - 10 * MIN, 5000, 120, 12),
  );
  // pi-c (group 2): co 20 hours ago: visible in 24 h, not in 1 h.
  await upload(
    { id: "pi-c", group: "2", gps: "35.18, 129.07" },
    deviceReadings("pi-c", ["co"], NOW - 20 * 60 * MIN, 60_000, 30, 13),
  );
  await uploadAlerts(url, {
    schema: "sensord.alerts.v1",
    device: { id: "pi-a", group: "1" },
    alerts: alertPair("e1", "co", NOW - 30 * MIN, 2 * MIN),
  });
}

/** Opens the page; `seriesUrls` collects the chart queries it makes. */
async function open(
  query: string,
  seriesUrls: string[] = [],
): Promise<{ page: Page; errors: string[] }> {
  const page = await fleet.browser().newPage();
  const errors = collectErrors(page);
  page.on("request", (request) => {
    if (request.url().includes("/readings/series")) seriesUrls.push(request.url());
  });
  await page.goto(`${url}/${query}`);
  await page.waitForFunction("window.sensordReady !== undefined");
  await ready(page);
  return { page, errors };
}

interface Drawn {
  gases: string[];
  labels: Record<string, string[]>;
  /** Non-null points per gas per line. */
  points: Record<string, number[]>;
  maxima: Record<string, number[]>;
}

// Page-side code is passed as text: the tests compile without the DOM types the page has.

/** Waits until the page has drawn its current filters. */
function ready(page: Page): Promise<unknown> {
  return page.evaluate("window.sensordReady");
}

/** What the uPlot instances hold: line labels and the data they plot. */
function drawn(page: Page): Promise<Drawn> {
  return page.evaluate<Drawn>(`(() => {
    const out = { gases: [], labels: {}, points: {}, maxima: {} };
    for (const [gas, chart] of Object.entries(window.sensordCharts)) {
      out.gases.push(gas);
      out.labels[gas] = chart.series.slice(1).map((series) => String(series.label));
      out.points[gas] = chart.data.slice(1).map((ys) => ys.filter((y) => y != null).length);
      out.maxima[gas] = chart.data.slice(1).map((ys) => Math.max(...ys.filter((y) => typeof y === "number")));
    }
    return out;
  })()`);
}

/** Canvas pixels that are not blank in a chart (lines, bands, axes). */
function inkedPixels(page: Page, gas: string): Promise<number> {
  return page.evaluate<number>(`(() => {
    const canvas = document.querySelector('.chart[data-gas="${gas}"] canvas');
    const context = canvas && canvas.getContext("2d");
    if (!context) return -1;
    const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
    let inked = 0;
    for (let at = 3; at < data.length; at += 4) if (data[at] > 0) inked++;
    return inked;
  })()`);
}

/** Per line of a gas's chart: the (x in ms, average) pairs it plots. */
function plotted(page: Page, gas: string): Promise<Array<Array<[number, number]>>> {
  return page.evaluate<Array<Array<[number, number]>>>(`(() => {
    const chart = window.sensordCharts[${JSON.stringify(gas)}];
    const x = chart.data[0];
    return chart.data.slice(1).map((ys) => ys.flatMap((y, i) => (y == null ? [] : [[Math.round(x[i] * 1000), y]])));
  })()`);
}

/**
 * The averages a chart should plot for a device and gas, computed from what
 * was sent with the documented bucket rule, for the range the page asked for.
 */
function expectedAverages(seriesUrl: string, device: string, gas: string): Array<[number, number]> {
  const query = new URL(seriesUrl).searchParams;
  const fromMs = Number(query.get("from"));
  const toMs = Number(query.get("to"));
  const bucketMs = Math.ceil((toMs - fromMs) / Number(query.get("width")));
  const buckets = new Map<number, number[]>();
  for (const reading of sent) {
    const ts = Date.parse(reading.ts);
    if (reading.device !== device || reading.gas !== gas || ts < fromMs || ts >= toMs) continue;
    const start = fromMs + Math.floor((ts - fromMs) / bucketMs) * bucketMs;
    buckets.set(start, [...(buckets.get(start) ?? []), reading.value]);
  }
  return [...buckets.entries()]
    .sort(([x], [y]) => x - y)
    .map(([start, values]) => [
      start,
      values.reduce((sum, value) => sum + value, 0) / values.length,
    ]);
}

describe.each(STORE_KINDS)("fleet dashboard in headless Chromium, on %s", (kind) => {
  beforeAll(() => startFleet(kind), 60_000);
  afterAll(() => fleet.stop());

  it("draws a chart per gas with one line per device, the averages of what was sent, with no console errors", async () => {
    const seriesUrls: string[] = [];
    const { page, errors } = await open("?range=1h", seriesUrls);
    const charts = await drawn(page);
    expect(charts.gases.sort()).toEqual(["co", "no2"]);
    expect(charts.labels.co).toEqual(["pi-a", "pi-b"]);
    expect(charts.labels.no2).toEqual(["pi-a"]);
    const seriesUrl = seriesUrls.at(-1) ?? "";
    const co = await plotted(page, "co");
    const no2 = await plotted(page, "no2");
    for (const [points, device, gas] of [
      [co[0], "pi-a", "co"],
      [co[1], "pi-b", "co"],
      [no2[0], "pi-a", "no2"],
    ] as const) {
      const want = expectedAverages(seriesUrl, device, gas);
      expect(want.length, `${device}/${gas}`).toBeGreaterThan(20);
      expect(
        points?.map(([x]) => x),
        `${device}/${gas}`,
      ).toEqual(want.map(([x]) => x));
      for (const [k, [, y]] of want.entries()) expect(points?.[k]?.[1]).toBeCloseTo(y, 9);
    }
    expect(await inkedPixels(page, "co")).toBeGreaterThan(2000);
    // The device table and map show all three devices, pi-c with its last reading 20 h ago.
    expect(await page.locator("#devices tr").count()).toBe(3);
    await expect.poll(() => page.locator("#devices tr").nth(2).textContent()).toContain("pi-c");
    expect(await page.locator("#map circle").count()).toBe(3);
    expect(await page.locator("#alerts tr").count()).toBe(2);
    expect(await page.locator("#alerts tr.raise").textContent()).toContain("pi-a/gas0");
    await screenshot(page, `fleet-1h-${kind}.png`);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("changing the time range or the group changes what is drawn", async () => {
    const { page, errors } = await open("?range=1h");
    expect((await drawn(page)).labels.co).toEqual(["pi-a", "pi-b"]);
    await page.click('button[data-range="24h"]');
    await ready(page);
    expect((await drawn(page)).labels.co).toEqual(["pi-a", "pi-b", "pi-c"]);
    expect(page.url()).toContain("range=24h");
    await page.click('button[data-range="15m"]');
    await ready(page);
    // pi-a's readings stop 25 min ago: none in the last 15 minutes.
    expect((await drawn(page)).labels.co).toEqual(["pi-b"]);
    await page.click('button[data-range="24h"]');
    await ready(page);
    await page.selectOption("#group", "2");
    await ready(page);
    const group2 = await drawn(page);
    expect(group2.gases).toEqual(["co"]);
    expect(group2.labels.co).toEqual(["pi-b", "pi-c"]);
    expect(await page.locator("#devices tr").count()).toBe(2);
    await screenshot(page, `fleet-24h-group2-${kind}.png`);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("the CSV download holds exactly the readings of the selected range and group, every column", async () => {
    const { page, errors } = await open("?range=24h&group=2");
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#csv")]);
    const stream = await download.createReadStream();
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    const lines = Buffer.concat(chunks).toString("utf8").trim().split("\n");
    const expected = sent
      .filter((reading) => reading.group === "2" && Date.parse(reading.ts) >= NOW - 24 * 60 * MIN)
      .sort((x, y) => Date.parse(x.ts) - Date.parse(y.ts) || (x.id < y.id ? -1 : 1));
    expect(expected).toHaveLength(150);
    expect(lines[0]).toBe("id,device,group,sensor,gas,value,unit,ts,flags");
    expect(lines.slice(1)).toEqual(
      expected.map((r) =>
        [
          r.id,
          r.device,
          r.group,
          r.sensor,
          r.gas,
          String(r.value),
          r.unit,
          r.ts,
          r.flags.join(";"),
        ].join(","),
      ),
    );
    expect(errors).toEqual([]);
    await page.close();
  });
});
