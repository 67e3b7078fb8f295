import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  alertPair,
  deviceReadings,
  uploadAlerts,
  uploadReadings,
} from "../cloud/fleet-fixtures.js";
import { IngestProcess, killAllIngest } from "../cloud/ingest-process.js";
import { DaemonProcess, killAllDaemons, makeTempDir } from "../support/processes.js";
import { collectErrors, launchChromium, screenshot } from "./browser.js";

/**
 * Both dashboards as a person sees them, on a laptop (1280 x 900) and a
 * phone (390 x 844): nothing wider than the window, nothing that matters cut
 * off, long names shortened with an ellipsis and a title. The fleet page is
 * a real sensord-ingest; the device page a real sensord on the replay driver
 * with an active alarm, uploading to that ingest.
 */
const NOW = Date.now();
const MIN = 60_000;
// The longest names the config and the ingest take: 64 characters with no place to break.
const LONG_DEVICE = `pi-${"basement-boiler-room-north-wall-".repeat(2)}`.slice(0, 64);
const LONG_GROUP = `site-${"warehouse-seven-".repeat(4)}`.slice(0, 64);
const LONG_SENSOR = `sensor-${"mics6814-channel-".repeat(4)}`.slice(0, 64);
const SIZES = [
  { name: "laptop", width: 1280, height: 900 },
  { name: "phone", width: 390, height: 844 },
] as const;

const temp = makeTempDir("sensord-layout-");
let browser: BrowserContext;
let closeBrowser: () => Promise<void>;
let ingestUrl: string;
let deviceUrl: string;
let daemon: DaemonProcess;

beforeAll(async () => {
  ({ context: browser, close: closeBrowser } = await launchChromium());
  const ingest = new IngestProcess([
    "--listen",
    "127.0.0.1:0",
    "--db",
    join(temp.dir, "ingest.db"),
    "--log-level",
    "warn",
  ]);
  ingestUrl = await ingest.ready();
  await uploadReadings(
    ingestUrl,
    { id: "pi-a", group: "1", gps: "37.56, 126.97" },
    deviceReadings("pi-a", ["co", "no2"], NOW - 40 * MIN, 10_000, 240, 21),
  );
  await uploadReadings(
    ingestUrl,
    { id: LONG_DEVICE, group: LONG_GROUP, gps: "37.45, 126.70" },
    deviceReadings(LONG_DEVICE, ["co", "h2"], NOW - 30 * MIN, 10_000, 180, 22),
  );
  await uploadAlerts(ingestUrl, {
    schema: "sensord.alerts.v1",
    device: { id: "pi-a", group: "1" },
    alerts: alertPair("a1", "co", NOW - 20 * MIN, 3 * MIN),
  });
  await uploadAlerts(ingestUrl, {
    schema: "sensord.alerts.v1",
    device: { id: LONG_DEVICE, group: LONG_GROUP },
    alerts: alertPair("b1", "co", NOW - 5 * MIN, null),
  });
  // The long group's fleet thresholds: a rule for the long-named sensor, by a long-named operator.
  const set = await fetch(
    `${ingestUrl}/fleet/thresholds?${new URLSearchParams({ group: LONG_GROUP })}`,
    {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        thresholds: [
          {
            gas: "co",
            op: ">=",
            value: 35,
            unit: "ppm",
            clear: 30,
            for: "30s",
            sensor: LONG_SENSOR,
          },
          { gas: "co", value: 200, unit: "ppm", severity: "critical", sensor: LONG_SENSOR },
        ],
        changed_by: LONG_DEVICE,
      }),
    },
  );
  if (set.status !== 200) throw new Error(`PUT /fleet/thresholds: ${await set.text()}`);

  // The device: co at 50 ppm (over the 35 ppm preset) keeps an alarm active.
  const dir = join(temp.dir, "device");
  mkdirSync(dir);
  writeFileSync(join(dir, "co.ndjson"), '{"co": 50, "no2": 40}\n{"co": 52, "no2": 42}\n');
  writeFileSync(join(dir, "h2.ndjson"), '{"h2": 5}\n{"h2": 7.5}\n');
  writeFileSync(
    join(dir, "sensord.toml"),
    `[device]\nid = "${LONG_DEVICE}"\ngroup = "${LONG_GROUP}"\n\n` +
      '[storage]\npath = "sensord.db"\nflush_interval = "100ms"\n\n[control]\nsocket = ""\n\n' +
      '[http]\nlisten = "127.0.0.1:0"\n\n' +
      `[sync]\nendpoint = "${ingestUrl}/ingest"\ninterval = "1s"\n\n` +
      `[[sensors]]\nid = "${LONG_SENSOR}"\ndriver = "replay"\ninterval = "500ms"\nfile = "co.ndjson"\nloop = true\n\n` +
      '[[sensors]]\nid = "gas1"\ndriver = "replay"\ninterval = "500ms"\nfile = "h2.ndjson"\nloop = true\n',
  );
  daemon = new DaemonProcess(["--config", join(dir, "sensord.toml")]);
  deviceUrl = (await daemon.waitForLog(/dashboard on (http:\/\/127\.0\.0\.1:\d+)\//))[1] ?? "";
  // Its first upload: from then on the fleet page has two lines of the long-named device.
  const uploaded = `${ingestUrl}/readings?device=${LONG_DEVICE}&sensor=${LONG_SENSOR}&limit=1`;
  const deadline = Date.now() + 15_000;
  while (
    ((await (await fetch(uploaded)).json()) as { readings: unknown[] }).readings.length === 0
  ) {
    if (Date.now() > deadline) throw new Error(`no upload from sensord:\n${daemon.log}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}, 60_000);

afterAll(async () => {
  await closeBrowser?.();
  await killAllDaemons();
  await killAllIngest();
  temp.cleanup();
});

async function open(
  base: string,
  size: (typeof SIZES)[number],
  query = "",
): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  await page.setViewportSize({ width: size.width, height: size.height });
  const errors = collectErrors(page);
  await page.goto(`${base}/${query}`);
  await page.waitForFunction("window.sensordReady !== undefined");
  await page.evaluate("window.sensordReady");
  return { page, errors };
}

/** Polls a page expression from here (the pages' CSP forbids the eval Playwright's polling needs). */
async function until(page: Page, expression: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await page.evaluate<boolean>(`Boolean(${expression})`))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${expression}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface Overflow {
  width: number;
  scrollWidth: number;
  /** Elements whose visible right edge is past the window. */
  past: string[];
  /** Cells whose text is cut without a title giving it whole. */
  cut: string[];
  /** Chart parts (legend, title) wider than their card. */
  spilled: string[];
}

// Page-side code is passed as text: the tests compile without the DOM types the page has.
function overflow(page: Page): Promise<Overflow> {
  return page.evaluate<Overflow>(`(() => {
    const width = window.innerWidth;
    const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
      (typeof el.className === "string" && el.className ? "." + el.className.trim().split(/\\s+/).join(".") : "");
    const path = (el) => { const parts = []; for (let at = el; at && at !== document.body && parts.length < 4; at = at.parentElement) parts.unshift(name(at)); return parts.join(" > "); };
    // Only hidden/clip count as clipping: a scrolling box past the window still hides content.
    const clips = (el) => { const x = getComputedStyle(el).overflowX; return x === "hidden" || x === "clip"; };
    const past = [];
    for (const el of document.querySelectorAll("body *")) {
      const rect = el.getBoundingClientRect();
      if (rect.width === 0 || rect.height === 0) continue;
      let right = rect.right;
      for (let up = el.parentElement; up; up = up.parentElement) if (clips(up)) right = Math.min(right, up.getBoundingClientRect().right);
      if (right > width + 0.5) past.push(path(el) + " right=" + Math.round(right));
    }
    const cut = [];
    for (const cell of document.querySelectorAll("th, td, h1, .u-title, .u-label")) {
      if (cell.scrollWidth <= cell.clientWidth + 1) continue;
      // Cut on purpose (a name): the title gives it whole.
      const shown = cell.textContent.split("\u2026")[0];
      if (cell.title === "" || !cell.title.startsWith(shown)) cut.push(path(cell) + ": " + JSON.stringify(cell.textContent));
    }
    const spilled = [];
    for (const card of document.querySelectorAll(".chart")) {
      const edge = card.getBoundingClientRect().right;
      for (const part of card.querySelectorAll(".u-legend, .u-title, canvas, .u-wrap")) {
        if (part.getBoundingClientRect().right > edge + 0.5) spilled.push(card.dataset.gas + ": " + path(part));
      }
    }
    return { width, scrollWidth: document.documentElement.scrollWidth, past: past.slice(0, 15), cut, spilled };
  })()`);
}

/** A cell's text, whether it is cut, its title, and whether it is inside the window. */
interface Cell {
  text: string;
  title: string;
  clipped: boolean;
  inWindow: boolean;
  ellipsis: boolean;
}

function cells(page: Page, selector: string): Promise<Cell[]> {
  return page.evaluate<
    Cell[]
  >(`[...document.querySelectorAll(${JSON.stringify(selector)})].map((cell) => {
    const rect = cell.getBoundingClientRect();
    return {
      text: cell.textContent,
      title: cell.title,
      clipped: cell.scrollWidth > cell.clientWidth + 1,
      inWindow: rect.left >= 0 && rect.right <= window.innerWidth + 0.5,
      ellipsis: getComputedStyle(cell).textOverflow === "ellipsis",
    };
  })`);
}

describe.each(SIZES)("dashboards at $width x $height", (size) => {
  it("the fleet page fits the window: the Devices table whole, names shortened with a title, legends in their cards", async () => {
    const { page, errors } = await open(ingestUrl, size);
    await until(page, `document.querySelectorAll("#devices tr").length >= 2`);
    await screenshot(page, `layout-fleet-${size.width}.png`);
    const found = await overflow(page);
    expect(found.scrollWidth, JSON.stringify(found)).toBeLessThanOrEqual(size.width);
    expect(found.past).toEqual([]);
    expect(found.cut).toEqual([]);
    expect(found.spilled).toEqual([]);
    // Every column of the Devices table is on screen, "Last upload" included.
    for (const header of await cells(page, "table:has(#devices) th")) {
      expect(header, header.text).toMatchObject({ inWindow: true, clipped: false });
    }
    const lastUpload = await cells(page, "#devices tr td:last-child");
    expect(lastUpload.length).toBeGreaterThanOrEqual(2);
    for (const cell of lastUpload)
      expect(cell, cell.text).toMatchObject({ inWindow: true, clipped: false });
    // The 64-character name: shortened on screen, whole in its title.
    const long = (await cells(page, "#devices td")).filter((cell) => cell.title === LONG_DEVICE);
    expect(long).toHaveLength(1);
    expect(long[0]).toMatchObject({ ellipsis: true, inWindow: true });
    // In the legends, shortened in the middle: the sensor at its end still tells two lines apart.
    const legend = await cells(page, '.chart[data-gas="co"] .u-legend .u-label');
    expect(legend.map((label) => label.title)).toContain(`${LONG_DEVICE}/${LONG_SENSOR}`);
    const labels = legend.map((label) => label.text);
    expect(new Set(labels).size).toBe(labels.length);
    expect(labels.filter((label) => label.includes("\u2026")).length).toBeGreaterThanOrEqual(2);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("the fleet page with a group selected fits the window: the Thresholds editor, status and history", async () => {
    const { page, errors } = await open(
      ingestUrl,
      size,
      `?${new URLSearchParams({ group: LONG_GROUP })}`,
    );
    await until(page, `document.querySelectorAll("#threshold-rules tr.rule").length === 2`);
    await screenshot(page, `layout-fleet-thresholds-${size.width}.png`);
    const found = await overflow(page);
    expect(found.scrollWidth, JSON.stringify(found)).toBeLessThanOrEqual(size.width);
    expect(found.past).toEqual([]);
    expect(found.cut).toEqual([]);
    // Every field of the editor is on screen, the long sensor name's too.
    const fields = await cells(
      page,
      "#threshold-rules input, #threshold-rules select, #threshold-rules button",
    );
    expect(fields).toHaveLength(18);
    for (const field of fields) expect(field, field.text).toMatchObject({ inWindow: true });
    const status = (await cells(page, "#threshold-status td")).filter(
      (cell) => cell.title === LONG_DEVICE,
    );
    expect(status[0]).toMatchObject({ ellipsis: true, inWindow: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it("the device page fits the window: the active alarm's Rule cell whole, names shortened with a title", async () => {
    const { page, errors } = await open(deviceUrl, size);
    await until(page, `document.querySelector("#alarms tr.alarm") !== null`);
    await until(page, `Object.keys(window.sensordCharts).length >= 2`);
    await screenshot(page, `layout-device-${size.width}.png`);
    const found = await overflow(page);
    expect(found.scrollWidth, JSON.stringify(found)).toBeLessThanOrEqual(size.width);
    expect(found.past).toEqual([]);
    expect(found.cut).toEqual([]);
    expect(found.spilled).toEqual([]);
    const rule = await cells(page, "#alarms tr.alarm td:last-child");
    expect(rule[0]?.text).toMatch(/co/);
    expect(rule[0]).toMatchObject({ inWindow: true, clipped: false });
    for (const header of await cells(page, "table:has(#alarms) th")) {
      expect(header, header.text).toMatchObject({ inWindow: true, clipped: false });
    }
    const long = (await cells(page, "#sensors td")).filter((cell) => cell.title === LONG_SENSOR);
    expect(long).toHaveLength(1);
    expect(long[0]).toMatchObject({ ellipsis: true, inWindow: true });
    expect(errors).toEqual([]);
    await page.close();
  });
});
