import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AlertBatch } from "../../schemas/alert-batch.js";
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
 * The fleet page as a new user meets it, on real sensord-ingest processes:
 * the range it opens with, the thresholds it draws, how plainly alarms show,
 * and what it says when there is nothing to draw or no key yet.
 */
const NOW = Date.now();
const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const KEY = "fleet-page-test-key-0123456789abcdef";
const temp = makeTempDir("sensord-fleet-page-");
let browser: BrowserContext;
let closeBrowser: () => Promise<void>;

beforeAll(async () => {
  ({ context: browser, close: closeBrowser } = await launchChromium());
}, 60_000);

afterAll(async () => {
  await closeBrowser?.();
  await killAllIngest();
  temp.cleanup();
});

async function startIngest(name: string, extra: string[] = []): Promise<string> {
  const ingest = new IngestProcess([
    "--listen",
    "127.0.0.1:0",
    "--db",
    join(temp.dir, `${name}.db`),
    "--log-level",
    "warn",
    ...extra,
  ]);
  return ingest.ready();
}

async function open(base: string, query = ""): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
  const errors = collectErrors(page);
  await page.goto(`${base}/${query}`);
  await page.waitForFunction("window.sensordReady !== undefined");
  await page.evaluate("window.sensordReady");
  return { page, errors };
}

/** An alert event of `gas` in `unit`, as sensord sends it. */
function alertIn(
  id: string,
  gas: AlertBatch["alerts"][number]["gas"],
  unit: "ppm" | "ppb",
  threshold: number,
  raiseMs: number,
  clearAfterMs: number,
): AlertBatch["alerts"] {
  return alertPair(id, gas, raiseMs, clearAfterMs, threshold).map((event) => ({
    ...event,
    unit,
    rule: `${gas}>=${threshold}${unit}:warning`,
  }));
}

describe("a fleet whose only device started uploading 5 minutes ago", () => {
  let url: string;

  beforeAll(async () => {
    url = await startIngest("fresh");
    const device = { id: "fresh-pi", group: "lab", gps: "37.56, 126.97" };
    await uploadReadings(
      url,
      device,
      deviceReadings("fresh-pi", ["co", "no2", "h2"], NOW - 5 * MIN, 10_000, 30, 31),
    );
    // co: an alarm raised 4 minutes ago and still active. no2: its rule is known only
    // from an alarm three days ago, far outside any range the page shows. h2: no alert ever.
    await uploadAlerts(url, {
      schema: "sensord.alerts.v1",
      device,
      alerts: [
        ...alertPair("co1", "co", NOW - 4 * MIN, null),
        ...alertIn("no2old", "no2", "ppb", 88, NOW - 3 * DAY, 5 * MIN),
      ],
    });
    // Another device, quiet for 20 hours.
    await uploadReadings(
      url,
      { id: "old-pi", group: "attic" },
      deviceReadings("old-pi", ["co"], NOW - 20 * 60 * MIN, 60_000, 10, 32),
    );
  }, 30_000);

  it("opens on 15 min, the range that holds the data, with the data across the chart", async () => {
    const { page, errors } = await open(url);
    expect(await page.getAttribute('button[data-range="15m"]', "aria-pressed")).toBe("true");
    const span = await page.evaluate<number>(
      "(() => { const x = window.sensordCharts.co.scales.x; return Math.round((x.max - x.min) * 1000); })()",
    );
    expect(span).toBe(15 * MIN);
    // The URL is left alone: a reload chooses again from the data.
    expect(new URL(page.url()).searchParams.get("range")).toBeNull();
    expect(errors).toEqual([]);
    await page.close();
  });

  it("draws the thresholds the devices reported, even from alerts long before the range, and says when none is known", async () => {
    const { page, errors } = await open(url);
    const thresholds = (gas: string) =>
      page.getAttribute(`.chart[data-gas="${gas}"]`, "data-thresholds");
    const title = (gas: string) => page.textContent(`.chart[data-gas="${gas}"] .u-title`);
    expect(await thresholds("co")).toBe("warning >= 35 ppm");
    expect(await thresholds("no2")).toBe("warning >= 88 ppb");
    expect(await thresholds("h2")).toBe("");
    expect(await title("h2")).toMatch(/no threshold known \(no device has sent an alert for it\)/);
    expect(await title("co")).not.toMatch(/no threshold known/);
    await screenshot(page, "fleet-page-thresholds.png");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("shades an active alarm plainly: the shading alone darkens the plot by a quarter or more", async () => {
    const { page, errors } = await open(url, "?range=15m");
    // The most common colour over the alarm period (lines are thin, the shading fills it),
    // composited on the white card: how far it is from white.
    const contrast = await page.evaluate<number>(`(() => {
      const chart = window.sensordCharts.co;
      const canvas = document.querySelector('.chart[data-gas="co"] canvas');
      const x0 = Math.ceil(chart.valToPos(${(NOW - 3 * MIN) / 1000}, "x", true));
      const x1 = Math.floor(chart.valToPos(Date.now() / 1000 - 20, "x", true));
      const { top, height } = chart.bbox;
      const pad = Math.round(10 * devicePixelRatio);
      const { data } = canvas.getContext("2d").getImageData(x0, top + pad, x1 - x0, height - 2 * pad);
      const counts = new Map();
      for (let at = 0; at < data.length; at += 4) {
        const key = data.slice(at, at + 4).join(",");
        counts.set(key, (counts.get(key) || 0) + 1);
      }
      const [rgba] = [...counts].sort((a, b) => b[1] - a[1])[0];
      const [r, g, b, a] = rgba.split(",").map(Number);
      return Math.max(...[r, g, b].map((c) => (255 - c) * (a / 255)));
    })()`);
    expect(contrast).toBeGreaterThanOrEqual(64);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("with no readings in the range, says where the newest one is and offers the range that shows it", async () => {
    const { page, errors } = await open(url, "?range=1h&device=old-pi");
    const empty = await page.textContent("#charts .empty");
    expect(empty).toMatch(/No readings match these filters in this time range/);
    expect(empty).toMatch(/The newest reading is from .* \(20 h ago\)/);
    await page.click('#charts .empty button:text("Show the last 24h")');
    await page.evaluate("window.sensordReady");
    expect(Object.keys(await page.evaluate<object>("window.sensordCharts"))).toEqual(["co"]);
    expect(new URL(page.url()).searchParams.get("range")).toBe("24h");
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe("what the page says before it can show anything", () => {
  it("an empty ingest: how to point a device at it, and 15 min to start with", async () => {
    const url = await startIngest("empty");
    const { page, errors } = await open(url);
    const empty = await page.textContent("#charts .empty");
    expect(empty).toMatch(/No device has uploaded to this ingest yet/);
    expect(await page.textContent("#charts .empty pre")).toBe(`[sync]\nendpoint = "${url}/ingest"`);
    expect(empty).toMatch(/listens on loopback .* --listen 0\.0\.0\.0:PORT/);
    expect(await page.textContent("#devices")).toBe("no device has uploaded yet");
    expect(await page.getAttribute('button[data-range="15m"]', "aria-pressed")).toBe("true");
    await screenshot(page, "fleet-page-empty.png");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("an ingest with an API key asks for it in the page, says when the key was wrong, then works", async () => {
    const keyFile = join(temp.dir, "api-key");
    writeFileSync(keyFile, `${KEY}\n`, { mode: 0o600 });
    const url = await startIngest("keyed", ["--api-key-file", keyFile]);
    const page = await browser.newPage();
    await page.setViewportSize({ width: 1280, height: 900 });
    const dialogs: string[] = [];
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await page.goto(`${url}/`);
    await page.waitForFunction("window.sensordReady !== undefined");
    await page.evaluate("window.sensordReady");
    expect(await page.textContent("#charts .empty h2")).toBe("This ingest needs its API key");
    expect(await page.textContent("#charts .empty")).toMatch(/--api-key-file/);

    await page.fill("#api-key", "not-the-key");
    await page.click('#key-form button[type="submit"]');
    await page.evaluate("window.sensordReady");
    expect(await page.textContent("#charts .empty h2")).toBe("Wrong API key");
    expect(await page.textContent("#charts .empty .problem")).toMatch(/the ingest refused it/);
    expect(await page.textContent("#status")).toBe("wrong API key");
    await screenshot(page, "fleet-page-wrong-key.png");

    await page.fill("#api-key", KEY);
    await page.click('#key-form button[type="submit"]');
    await page.evaluate("window.sensordReady");
    expect(await page.textContent("#charts .empty h2")).toBe(
      "No device has uploaded to this ingest yet",
    );
    expect(dialogs).toEqual([]);
    await page.close();
  });
});
