import Database from "better-sqlite3";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  alertPair,
  deviceReadings,
  uploadAlerts,
  uploadReadings,
} from "../cloud/fleet-fixtures.js";
import { IngestProcess, killAllIngest } from "../cloud/ingest-process.js";
import { makeTempDir } from "../support/processes.js";
import { collectErrors, launchChromium, screenshot } from "./browser.js";

/**
 * A real sensord-ingest (the built binary) over a database filled through
 * POST /ingest, and the fleet page in real headless Chromium.
 */
const NOW = Date.now();
const MIN = 60_000;
let browser: BrowserContext;
let closeBrowser: () => Promise<void>;
let ingest: IngestProcess;
let url: string;
let dbPath: string;
const temp = makeTempDir("sensord-fleet-web-");

beforeAll(async () => {
  ({ context: browser, close: closeBrowser } = await launchChromium());
  dbPath = `${temp.dir}/ingest.db`;
  ingest = new IngestProcess(["--listen", "127.0.0.1:0", "--db", dbPath, "--log-level", "warn"]);
  url = await ingest.ready();
  // pi-a (group 1): co + no2 from 50 to 25 min ago, one every 10 s.
  await uploadReadings(
    url,
    { id: "pi-a", group: "1", gps: "37.56, 126.97" },
    deviceReadings("pi-a", ["co", "no2"], NOW - 50 * MIN, 10_000, 150, 11),
  );
  // pi-b (group 2): co only, the last 10 min only, one every 5 s.
  await uploadReadings(
    url,
    { id: "pi-b", group: "2", gps: "37.45, 126.70" },
    deviceReadings("pi-b", ["co"], NOW - 10 * MIN, 5000, 120, 12),
  );
  // pi-c (group 2): co 20 hours ago: visible in 24 h, not in 1 h.
  await uploadReadings(
    url,
    { id: "pi-c", group: "2", gps: "35.18, 129.07" },
    deviceReadings("pi-c", ["co"], NOW - 20 * 60 * MIN, 60_000, 30, 13),
  );
  await uploadAlerts(url, {
    schema: "sensord.alerts.v1",
    device: { id: "pi-a", group: "1" },
    alerts: alertPair("e1", "co", NOW - 30 * MIN, 2 * MIN),
  });
}, 60_000);

afterEach(async () => {
  if (ingest !== undefined && !ingest.running) throw new Error(`ingest died: ${ingest.stderr}`);
});

afterAll(async () => {
  await closeBrowser?.();
  await ingest?.stop();
  await killAllIngest();
  temp.cleanup();
});

async function open(query: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  const errors = collectErrors(page);
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

describe("fleet dashboard in headless Chromium", () => {
  it("draws a chart per gas with one line per device, from the database, with no console errors", async () => {
    const { page, errors } = await open("?range=1h");
    const charts = await drawn(page);
    expect(charts.gases.sort()).toEqual(["co", "no2"]);
    expect(charts.labels.co).toEqual(["pi-a", "pi-b"]);
    expect(charts.labels.no2).toEqual(["pi-a"]);
    // The lines plot the buckets' averages: compare with the database.
    const db = new Database(dbPath, { readonly: true });
    const bucketCount = db
      .prepare<[], { n: number }>(
        "SELECT count(DISTINCT ts) AS n FROM readings_wide WHERE device = 'pi-b'",
      )
      .get();
    db.close();
    // pi-b's 120 readings at 5 s over 10 min: fewer buckets than readings, at least one per bucket span.
    expect(charts.points.co?.[1]).toBeGreaterThan(20);
    expect(charts.points.co?.[1]).toBeLessThanOrEqual(bucketCount?.n ?? 0);
    expect(await inkedPixels(page, "co")).toBeGreaterThan(2000);
    // The device table and map show all three devices, pi-c with its last reading 20 h ago.
    expect(await page.locator("#devices tr").count()).toBe(3);
    await expect.poll(() => page.locator("#devices tr").nth(2).textContent()).toContain("pi-c");
    expect(await page.locator("#map circle").count()).toBe(3);
    expect(await page.locator("#alerts tr").count()).toBe(2);
    expect(await page.locator("#alerts tr.raise").textContent()).toContain("pi-a/gas0");
    await screenshot(page, "fleet-1h.png");
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
    await screenshot(page, "fleet-24h-group2.png");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("the CSV download holds exactly the readings of the selected range in the database", async () => {
    const { page, errors } = await open("?range=24h&group=2");
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#csv")]);
    const stream = await download.createReadStream();
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    const lines = Buffer.concat(chunks).toString("utf8").trim().split("\n");
    const db = new Database(dbPath, { readonly: true });
    const expected = db
      .prepare<[], { id: string; value: number }>(
        "SELECT id, value FROM readings_wide WHERE group_id = '2' ORDER BY ts, id",
      )
      .all();
    db.close();
    expect(lines[0]).toBe("id,device,group,sensor,gas,value,unit,ts,flags");
    expect(lines.slice(1).map((line) => line.split(",").slice(0, 6).join(","))).toEqual(
      expected.map(
        (row) => `${row.id},${row.id.startsWith("pi-b") ? "pi-b" : "pi-c"},2,gas0,co,${row.value}`,
      ),
    );
    expect(expected).toHaveLength(150);
    expect(errors).toEqual([]);
    await page.close();
  });
});
