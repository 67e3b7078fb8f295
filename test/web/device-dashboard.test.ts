import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { readingId } from "../../schemas/ids.js";
import { DaemonProcess, killAllDaemons, makeTempDir, waitUntil } from "../support/processes.js";
import { collectErrors, launchChromium, screenshot } from "./browser.js";

/**
 * The real sensord binary on the replay driver, so what is in its database
 * is known, and its dashboard in real headless Chromium. gas0 replays a
 * dated history at once (co and no2 every 10 s from 50 to 5 min ago, with an
 * NO2 spike that raises and clears an alarm, and co 20 h ago); gas1 keeps
 * reading h2 twice a second, for the live updates.
 */
const NOW = Date.now();
const MIN = 60_000;
const HISTORY = 270;
const OLD = 30;
const TOKEN = "device-dashboard-test-token-0123456789";
const temp = makeTempDir("sensord-device-web-");
let browser: BrowserContext;
let closeBrowser: () => Promise<void>;
let daemon: DaemonProcess;
let url: string;
let db: Database.Database;

interface Row {
  seq: number;
  sensor: string;
  gas: string;
  unit: string;
  ts: number;
  value: number;
  flags: number;
}

function history(): string {
  const lines: string[] = [];
  for (let i = 0; i < OLD; i++)
    lines.push(JSON.stringify({ ts: NOW - 20 * 60 * MIN + i * MIN, co: 3 + (i % 4) }));
  for (let i = 0; i < HISTORY; i++) {
    const no2 = i >= 100 && i < 103 ? 95 + i - 100 : 40 + (i % 9);
    lines.push(JSON.stringify({ ts: NOW - 50 * MIN + i * 10_000, co: 10 + ((i * 7) % 23), no2 }));
  }
  return `${lines.join("\n")}\n`;
}

async function startDaemon(
  name: string,
  http: string,
  files: { history?: string; live?: string } = {},
): Promise<{ daemon: DaemonProcess; url: string; dbPath: string }> {
  const dir = join(temp.dir, name);
  const { mkdirSync } = await import("node:fs");
  mkdirSync(dir);
  writeFileSync(join(dir, "history.ndjson"), files.history ?? history());
  writeFileSync(join(dir, "live.ndjson"), files.live ?? '{"h2": 5}\n{"h2": 7.5}\n{"h2": 6}\n');
  writeFileSync(
    join(dir, "sensord.toml"),
    `[storage]\npath = "sensord.db"\nflush_interval = "100ms"\n\n[control]\nsocket = ""\n\n[http]\n${http}\n\n` +
      '[[sensors]]\nid = "gas0"\ndriver = "replay"\ninterval = "0s"\nfile = "history.ndjson"\n\n' +
      '[[sensors]]\nid = "gas1"\ndriver = "replay"\ninterval = "500ms"\nfile = "live.ndjson"\nloop = true\n',
  );
  const started = new DaemonProcess(["--config", join(dir, "sensord.toml")]);
  const match = await started.waitForLog(/dashboard on (http:\/\/127\.0\.0\.1:\d+)\//);
  return { daemon: started, url: match[1] ?? "", dbPath: join(dir, "sensord.db") };
}

function rows(where = "1 = 1", params: unknown[] = []): Row[] {
  return db
    .prepare<unknown[], Row>(
      `SELECT r.seq, s.sensor, s.gas, s.unit, r.ts, r.value, r.flags FROM readings r
       JOIN series s ON s.id = r.series WHERE ${where} ORDER BY r.seq`,
    )
    .all(...params);
}

beforeAll(async () => {
  ({ context: browser, close: closeBrowser } = await launchChromium());
  const started = await startDaemon("open", 'listen = "127.0.0.1:0"');
  daemon = started.daemon;
  url = started.url;
  db = new Database(started.dbPath, { readonly: true });
  await waitUntil(
    () => rows("s.sensor = 'gas0'").length === 2 * HISTORY + OLD,
    10_000,
    "the replayed history in the database",
  );
}, 60_000);

afterEach(() => {
  if (daemon !== undefined && daemon.child.exitCode !== null)
    throw new Error(`sensord died:\n${daemon.log}`);
});

afterAll(async () => {
  db?.close();
  await closeBrowser?.();
  await killAllDaemons();
  temp.cleanup();
});

/** Every /api/series request a page made, by page: what it asked for, to check the answer's buckets. */
const seriesRequests = new WeakMap<Page, URL[]>();

async function open(base: string, query = ""): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  const errors = collectErrors(page);
  const asked: URL[] = [];
  seriesRequests.set(page, asked);
  page.on("request", (request) => {
    const requested = new URL(request.url());
    if (requested.pathname === "/api/series") asked.push(requested);
  });
  await page.goto(`${base}/${query}`);
  await page.waitForFunction("window.sensordReady !== undefined");
  await page.evaluate("window.sensordReady");
  return { page, errors };
}

/**
 * Polls a page expression from here: the page's CSP forbids eval, which
 * Playwright's in-page polling of a string predicate needs.
 */
async function until(page: Page, expression: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await page.evaluate<boolean>(`Boolean(${expression})`))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${expression}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface Line {
  t: number[];
  min: number[];
  max: number[];
  count: number[];
}

interface Chart {
  fromMs: number;
  toMs: number;
  /**
   * Start of the oldest bucket the page keeps: the window slides every
   * second and drops whole buckets only, so the first one may start before
   * `fromMs` (and hold a reading from just before it).
   */
  keptFromMs: number;
  readings: number;
  /** Non-null points drawn (bucket averages), and their values. */
  values: number[];
  xs: number[];
}

// Page-side code is passed as text: the tests compile without the DOM types the page has.
/** The chart once it shows a range `spanMs` long (a click re-renders asynchronously). */
async function chartSpanning(page: Page, gas: string, spanMs: number): Promise<Chart> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    await page.evaluate("window.sensordReady");
    const drawn = await chart(page, gas);
    if (drawn !== null && drawn.toMs - drawn.fromMs === spanMs) return drawn;
    if (Date.now() > deadline) {
      throw new Error(
        `the ${gas} chart never spanned ${spanMs} ms (last: ${JSON.stringify(drawn)})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function chart(page: Page, gas: string): Promise<Chart | null> {
  return page.evaluate<Chart | null>(`(() => {
    const chart = window.sensordCharts[${JSON.stringify(gas)}];
    const box = document.querySelector('.chart[data-gas=${JSON.stringify(gas)}]');
    if (!chart || !box) return null;
    const xs = [], values = [];
    chart.data[1].forEach((y, at) => { if (y != null) { xs.push(chart.data[0][at] * 1000); values.push(y); } });
    const view = window.sensordView;
    const fromMs = Math.round(chart.scales.x.min * 1000);
    return {
      keptFromMs: view.anchorMs + Math.floor((fromMs - view.anchorMs) / view.bucketMs) * view.bucketMs,
      fromMs,
      toMs: Math.round(chart.scales.x.max * 1000),
      readings: Number(box.dataset.readings),
      values,
      xs,
    };
  })()`);
}

function inRange(gas: string, fromMs: number, toMs: number): Row[] {
  return rows("s.gas = ? AND r.ts >= ? AND r.ts < ?", [gas, fromMs, toMs]);
}

describe("device dashboard in headless Chromium", () => {
  it("loads with no console errors and draws the database's readings, thresholds' alarms and status", async () => {
    const { page, errors } = await open(url);
    const co = await chart(page, "co");
    const no2 = await chart(page, "no2");
    expect(co).not.toBeNull();
    expect(no2).not.toBeNull();
    if (co === null || no2 === null) return;
    expect(co.toMs - co.fromMs).toBe(3_600_000);
    // 1 h over ~1000 px: buckets of ~3.6 s, at most one 10-s reading each, so each point is a reading.
    const expected = inRange("co", co.keptFromMs, co.toMs);
    expect(expected.length).toBe(HISTORY);
    expect(co.readings).toBe(HISTORY);
    expect(co.values).toEqual(expected.map((row) => row.value));
    expect(no2.values).toEqual(inRange("no2", no2.keptFromMs, no2.toMs).map((row) => row.value));
    expect(Math.max(...no2.values)).toBe(97);

    const text = (selector: string) =>
      page.evaluate<string>(
        `[...document.querySelectorAll("${selector} tr")].map((tr) => [...tr.cells].map((td) => td.textContent).join(" | ")).join("\\n")`,
      );
    // The spike raised the NO2 warning (>= 88 ppb) and 40-48 ppb cleared it.
    const alerts = await text("#alerts");
    expect(alerts).toMatch(/ALARM warning \| gas0 \| no2 95 ppb \(threshold >= 88\)/);
    expect(alerts).toMatch(/clear \| gas0 \| no2 4\d ppb/);
    expect(await text("#alarms")).toContain("none");
    const sensors = await text("#sensors");
    expect(sensors).toContain("gas0 | replay | finished | 0");
    expect(sensors).toContain("gas1 | replay | ok | 0");
    expect(await text("#now")).toMatch(/gas1 \| h2 \| (5|7\.5|6) ppm \| ok \| \d s ago/);
    expect(await text("#health")).toContain("off (no [sync])");
    expect(await page.title()).toMatch(/^sensord /);
    await screenshot(page, "device-dashboard-1h.png");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("changing the time range changes what is drawn", async () => {
    const { page, errors } = await open(url);
    await page.click('button[data-range="24h"]');
    const day = await chartSpanning(page, "co", 86_400_000);
    expect(day.readings).toBe(inRange("co", day.keptFromMs, day.toMs).length);
    expect(day.readings).toBe(HISTORY + OLD);
    // The 20-hour-old readings are drawn now, in their place.
    expect(Math.min(...day.xs)).toBeLessThanOrEqual(NOW - 20 * 60 * MIN);
    expect(Math.min(...day.xs)).toBeGreaterThan(NOW - 20 * 60 * MIN - 90_000);
    expect(new URL(page.url()).searchParams.get("range")).toBe("24h");
    await screenshot(page, "device-dashboard-24h.png");

    await page.click('button[data-range="15m"]');
    const quarter = await chartSpanning(page, "co", 15 * MIN);
    const expected = inRange("co", quarter.keptFromMs, quarter.toMs);
    expect(quarter.readings).toBe(expected.length);
    expect(quarter.readings).toBeLessThan(HISTORY);
    expect(quarter.values).toEqual(expected.map((row) => row.value));
    expect(errors).toEqual([]);
    await page.close();
  });

  it("shows new readings live, without reloading the page", async () => {
    const { page, errors } = await open(url, "?range=15m");
    await page.evaluate("window.notReloaded = true");
    const before = await chart(page, "h2");
    if (before === null) throw new Error("no h2 chart");
    await until(
      page,
      `window.sensordLive.readings >= 3 && Number(document.querySelector('.chart[data-gas="h2"]').dataset.readings) >= ${before.readings + 3}`,
    );
    const after = await chart(page, "h2");
    expect(await page.evaluate("window.notReloaded")).toBe(true);
    if (after === null) throw new Error("no h2 chart");
    expect(after.toMs).toBeGreaterThan(before.toMs);
    // Every bucket the page holds (the server's answer plus what the feed folded
    // in) is exact for the readings up to the newest it was sent.
    const live = await page.evaluate<{
      lastSeq: number;
      anchorMs: number;
      bucketMs: number;
      fromMs: number;
      line: Line;
    }>(
      `(() => { const v = window.sensordView; return { lastSeq: v.lastSeq, anchorMs: v.anchorMs, bucketMs: v.bucketMs, fromMs: v.fromMs, line: v.lines.find((l) => l.gas === "h2") }; })()`,
    );
    // The buckets are the documented ones for what the page asked, worked out
    // here (bucketMs = max(1, ceil((to - from) / width)), starts at from + k *
    // bucketMs), not taken from the product: its bucketing is under test too.
    const asked = seriesRequests
      .get(page)
      ?.find((request) => Number(request.searchParams.get("from")) === live.anchorMs);
    if (asked === undefined) throw new Error(`no /api/series request from ${live.anchorMs}`);
    const span = Number(asked.searchParams.get("to")) - live.anchorMs;
    const width = Number(asked.searchParams.get("width"));
    expect(width).toBeGreaterThan(0);
    expect(live.bucketMs).toBe(Math.max(1, Math.ceil(span / width)));
    for (const start of live.line.t) expect((start - live.anchorMs) % live.bucketMs).toBe(0);
    const h2 = rows("s.gas = 'h2' AND r.seq <= ?", [live.lastSeq]);
    expect(live.line.t.length).toBeGreaterThan(3);
    live.line.t.forEach((start, at) => {
      const inBucket = h2
        .filter((row) => row.ts >= start && row.ts < start + live.bucketMs)
        .map((row) => row.value);
      expect([live.line.count[at], live.line.min[at], live.line.max[at]]).toEqual([
        inBucket.length,
        Math.min(...inBucket),
        Math.max(...inBucket),
      ]);
    });
    // And none is missing: every reading since the first bucket kept is in one.
    const first = live.line.t[0] ?? 0;
    expect(live.line.count.reduce((a, b) => a + b, 0)).toBe(
      h2.filter((row) => row.ts >= first).length,
    );
    expect(errors).toEqual([]);
    await page.close();
  });

  it("downloads the selected range as CSV, exactly as the database holds it", async () => {
    const fromMs = NOW - 40 * MIN;
    const toMs = NOW - 10 * MIN;
    const { page, errors } = await open(url, `?range=custom&from=${fromMs}&to=${toMs}`);
    const co = await chart(page, "co");
    expect(co?.fromMs).toBe(fromMs);
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#csv")]);
    const path = await download.path();
    const csv = readFileSync(path, "utf8");
    const prefix =
      db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'id_prefix'").get()
        ?.value ?? "";
    const expected = rows("r.ts >= ? AND r.ts < ?", [fromMs, toMs]).map(
      (row) =>
        `${readingId(prefix, row.seq)},${row.sensor},${row.gas},${row.value},${row.unit},${new Date(row.ts).toISOString()},`,
    );
    expect(expected.length).toBe(2 * 180);
    expect(csv).toBe(`id,sensor,gas,value,unit,ts,flags\n${expected.join("\n")}\n`);
    await screenshot(page, "device-dashboard-custom.png");
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe("device dashboard with a token", () => {
  let guarded: { daemon: DaemonProcess; url: string };

  beforeAll(async () => {
    const tokenFile = join(temp.dir, "http-token");
    writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    guarded = await startDaemon(
      "guarded",
      `listen = "127.0.0.1:0"\nrequire_token = true\ntoken_file = "${tokenFile}"`,
    );
  }, 30_000);

  it("asks for the token, takes it once from ?token=, then works from its cookie", async () => {
    const page = await browser.newPage();
    await page.goto(`${guarded.url}/`);
    await page.waitForFunction("window.sensordReady !== undefined");
    await page.evaluate("window.sensordReady");
    expect(await page.locator("#status").textContent()).toContain("needs its dashboard token");
    expect(await page.evaluate("Object.keys(window.sensordCharts).length")).toBe(0);
    await screenshot(page, "device-dashboard-token.png");

    // The page says how to open it with the token.
    expect(await page.textContent("#charts .empty h2")).toBe(
      "This sensord needs its dashboard token",
    );
    expect(await page.textContent("#charts .empty pre")).toBe(`${guarded.url}/?token=<TOKEN>`);
    expect(await page.textContent("#charts .empty")).toMatch(/\[http\] token_file/);

    const wrong = await page.goto(`${guarded.url}/?token=nope`);
    expect(wrong?.status()).toBe(401);
    expect(await wrong?.text()).toMatch(
      /^wrong token: it is not the one in this sensord's \[http\] token_file/,
    );

    await page.close();

    const page2 = await browser.newPage();
    const errors = collectErrors(page2);
    await page2.goto(`${guarded.url}/?token=${TOKEN}`);
    // Redirected to a URL without the token.
    expect(page2.url()).toBe(`${guarded.url}/`);
    await page2.waitForFunction("window.sensordReady !== undefined");
    await page2.evaluate("window.sensordReady");
    const co = await chart(page2, "co");
    expect(co?.readings).toBe(HISTORY);
    expect(await page2.evaluate("sessionStorage.length + localStorage.length")).toBe(0);
    expect(errors).toEqual([]);
    expect(guarded.daemon.log).not.toContain(TOKEN);
    await page2.close();
  });

  it("the token redirect keeps the other parameters: ?token=...&range=15m opens the 15 min view", async () => {
    const page = await browser.newPage();
    const errors = collectErrors(page);
    await page.goto(`${guarded.url}/?range=15m&token=${TOKEN}`);
    expect(page.url()).toBe(`${guarded.url}/?range=15m`);
    await page.waitForFunction("window.sensordReady !== undefined");
    await page.evaluate("window.sensordReady");
    await chartSpanning(page, "co", 15 * MIN);
    expect(await page.getAttribute('button[data-range="15m"]', "aria-pressed")).toBe("true");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("a token cookie the daemon no longer accepts: the page says the token was wrong", async () => {
    const { hostname } = new URL(guarded.url);
    await browser.addCookies([
      { name: "sensord_token", value: "an-old-token", domain: hostname, path: "/" },
    ]);
    const page = await browser.newPage();
    await page.goto(`${guarded.url}/?range=1h`);
    await page.waitForFunction("window.sensordReady !== undefined");
    await page.evaluate("window.sensordReady");
    expect(await page.textContent("#charts .empty h2")).toBe("Wrong dashboard token");
    expect(await page.textContent("#charts .empty pre")).toBe(
      `${guarded.url}/?range=1h&token=<TOKEN>`,
    );
    await browser.clearCookies();
    await page.close();
  });
});

describe("a new device", () => {
  it("opens on 15 min when its readings are minutes old, and says when there are none yet", async () => {
    const fresh = await startDaemon("fresh", 'listen = "127.0.0.1:0"', { history: "" });
    const { page, errors } = await open(fresh.url);
    expect(await page.getAttribute('button[data-range="15m"]', "aria-pressed")).toBe("true");
    await chartSpanning(page, "h2", 15 * MIN);
    expect(new URL(page.url()).searchParams.get("range")).toBeNull();
    expect(errors).toEqual([]);
    await page.close();

    const none = await startDaemon("none", 'listen = "127.0.0.1:0"', { history: "", live: "" });
    const empty = await open(none.url);
    expect(await empty.page.getAttribute('button[data-range="15m"]', "aria-pressed")).toBe("true");
    expect(await empty.page.textContent("#charts .empty h2")).toBe(
      "sensord has stored no readings yet",
    );
    expect(await empty.page.textContent("#now")).toBe("no readings yet");
    await screenshot(empty.page, "device-dashboard-no-readings.png");
    expect(empty.errors).toEqual([]);
    await empty.page.close();
  });
});
