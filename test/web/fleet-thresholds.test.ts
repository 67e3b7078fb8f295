import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Batch } from "../../schemas/batch.js";
import type { FleetRule } from "../../schemas/fleet-thresholds.js";
import { deviceReadings } from "../cloud/fleet-fixtures.js";
import { STORE_KINDS } from "../cloud/helpers.js";
import { makeTempDir } from "../support/processes.js";
import { collectErrors, screenshot } from "./browser.js";
import { useFleetPages } from "./fleet-pages.js";

/**
 * The fleet page's Thresholds panel on a real sensord-ingest (with an API
 * key) on each store, in real headless Chromium: the state each device
 * reported, the editor saving with If-Match, the 412 / 422 / 401 answers
 * shown where the operator looks, and the audit list. What the page shows is
 * checked against what the ingest stores.
 */
const NOW = Date.now();
const MIN = 60_000;
const KEY = "fleet-thresholds-test-key-0123456789";
const AUTH = { "x-api-key": KEY };
const GROUP = "school-1";
const REASON = 'thresholds[0].unit: "ppb" does not convert to channel no2\'s unit mV';
const NO2_WARNING: FleetRule = { gas: "no2", op: ">=", value: 100, unit: "ppb", clear: 80 };
const CO_CRITICAL: FleetRule = { gas: "co", value: 50, for: "30s", severity: "critical" };
/** A rule as the editor's columns show it: gas, op, value, unit, clear, for, severity, sensor. */
type Shown = [string, string, string, string, string, string, string, string];

let url: string;
const temp = makeTempDir("sensord-fleet-thresholds-");
const keyFile = join(temp.dir, "api-key");
writeFileSync(keyFile, `${KEY}\n`, { mode: 0o600 });

const fleet = useFleetPages(temp);

async function put(body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}/fleet/thresholds?group=${GROUP}`, {
    method: "PUT",
    headers: { "content-type": "application/json", ...AUTH, ...headers },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { version: number; etag: string };
}

interface Stored {
  version: number;
  etag: string;
  thresholds: FleetRule[];
  changed_by: string;
}

async function stored(): Promise<Stored> {
  const response = await fetch(`${url}/fleet/thresholds?group=${GROUP}`, { headers: AUTH });
  expect(response.status).toBe(200);
  return (await response.json()) as Stored;
}

/** An upload of `device`, carrying `x-sensord-thresholds: report` when given, as a Pi sends it. */
async function upload(device: string, group: string, report: string | null, seed: number) {
  const batch: Batch = {
    schema: "sensord.batch.v1",
    device: { id: device, group },
    batchId: `${device}-${seed}`,
    readings: deviceReadings(device, ["no2"], NOW - 5 * MIN, 10_000, 10, seed),
  };
  const response = await fetch(`${url}/ingest`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...AUTH,
      ...(report === null ? {} : { "x-sensord-thresholds": report }),
    },
    body: JSON.stringify(batch),
  });
  expect(response.status, await response.text()).toBe(200);
}

/** The page on the group, with the key in the tab's storage as the key form leaves it. */
async function open(): Promise<{ page: Page; errors: string[] }> {
  const page = await fleet.browser().newPage();
  const errors = collectErrors(page);
  await page.addInitScript(`sessionStorage.setItem("sensord-api-key", ${JSON.stringify(KEY)})`);
  await page.goto(`${url}/?group=${GROUP}&range=1h`);
  await page.waitForFunction("window.sensordReady !== undefined");
  await page.evaluate("window.sensordReady");
  return { page, errors };
}

// Page-side code is passed as text: the tests compile without the DOM types the page has.

function cellTexts(page: Page, rows: string): Promise<string[][]> {
  return page.evaluate<string[][]>(
    `[...document.querySelectorAll(${JSON.stringify(rows)})].map((tr) => [...tr.cells].map((td) => td.textContent))`,
  );
}

function shownRules(page: Page): Promise<Shown[]> {
  return page.evaluate<Shown[]>(
    `[...document.querySelectorAll("#threshold-rules tr.rule")].map((tr) => [...tr.querySelectorAll("input, select")].map((field) => field.value))`,
  );
}

/** What the page shows for a time: the browser's locale, as formatTime writes it. */
function localTime(page: Page, iso: string): Promise<string> {
  return page.evaluate<string>(`new Date(${JSON.stringify(iso)}).toLocaleString()`);
}

/** A failed request as Chromium logs it: expected for the refusals the page handles. */
function refused(status: number): string {
  const text: Record<number, string> = {
    401: "Unauthorized",
    412: "Precondition Failed",
    422: "Unprocessable Entity",
  };
  return `console: Failed to load resource: the server responded with a status of ${status} (${text[status]})`;
}

describe.each(STORE_KINDS)("the fleet page's Thresholds panel, on %s", (kind) => {
  let first: { version: number; etag: string };

  beforeAll(async () => {
    url = await fleet.start(kind, ["--api-key-file", keyFile]);
    first = await put({ thresholds: [NO2_WARNING, CO_CRITICAL], changed_by: "ops@lab" });
    await upload("pi-1", GROUP, `applied;etag="${first.etag}"`, 1);
    await upload(
      "pi-2",
      GROUP,
      `refused;etag="${first.etag}";reason="${REASON.replace(/"/g, '\\"')}"`,
      2,
    );
    await upload("pi-3", GROUP, null, 3);
    await upload("pi-9", "school-2", `applied;etag="${first.etag}"`, 9);
  }, 60_000);
  afterAll(() => fleet.stop());

  it("shows each device of the group in sync, refused (with the reason) or pending, and the current set", async () => {
    const { page, errors } = await open();
    const status = await cellTexts(page, "#threshold-status tr");
    expect(status.map((cells) => cells.slice(0, 3))).toEqual([
      ["pi-1", "in sync", "-"],
      ["pi-2", "refused", REASON],
      ["pi-3", "pending", "-"],
    ]);
    expect(status.map((cells) => cells[3] === "never")).toEqual([false, false, true]);
    const current = await stored();
    expect(current.version).toBe(1);
    const history = (await (
      await fetch(`${url}/fleet/thresholds/history?group=${GROUP}`, { headers: AUTH })
    ).json()) as { versions: Array<{ changed_at: string }> };
    const changedAt = history.versions[0]?.changed_at ?? "";
    expect(await page.textContent("#threshold-set")).toBe(
      `Version 1, changed ${await localTime(page, changedAt)} by ops@lab: 2 rules.`,
    );
    expect(await shownRules(page)).toEqual([
      ["no2", ">=", "100", "ppb", "80", "", "warning", ""],
      ["co", ">=", "50", "", "", "30s", "critical", ""],
    ]);
    expect(
      await page.getAttribute(
        "#threshold-rules tr.rule:nth-child(2) input[name=unit]",
        "aria-label",
      ),
    ).toBe("rule 2 unit");
    await screenshot(page, `fleet-thresholds-${kind}.png`);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("editing, adding and removing rules then saving stores a new version of exactly the rules shown", async () => {
    const { page, errors } = await open();
    await page.fill("#threshold-rules tr.rule:nth-child(1) input[name=value]", "90");
    await page.click("#threshold-add");
    await page.click("#threshold-rules tr.rule:nth-child(2) button");
    // The added rule moved up: its fields are named by their new place.
    const added = "#threshold-rules tr.rule:nth-child(2)";
    expect(await page.getAttribute(`${added} input[name=gas]`, "aria-label")).toBe("rule 2 gas");
    expect(await page.getAttribute(`${added} button`, "aria-label")).toBe("remove rule 2");
    await page.fill(`${added} input[name=gas]`, "co");
    await page.selectOption(`${added} select[name=op]`, ">");
    await page.fill(`${added} input[name=value]`, "35");
    await page.fill(`${added} input[name=unit]`, "ppm");
    await page.fill(`${added} input[name=for]`, "1m");
    await page.fill(`${added} input[name=sensor]`, "gas0");
    await page.fill("#threshold-by", "kim");
    await page.click('#threshold-form button[type="submit"]');
    await expect
      .poll(() => page.textContent("#threshold-message"))
      .toBe("Saved as version 2. The group's devices apply it on their next sync.");
    const current = await stored();
    expect(current.version).toBe(2);
    expect(current.changed_by).toBe("kim");
    expect(current.thresholds).toEqual([
      { gas: "no2", op: ">=", value: 90, unit: "ppb", clear: 80, severity: "warning" },
      {
        gas: "co",
        op: ">",
        value: 35,
        unit: "ppm",
        for: "1m",
        severity: "warning",
        sensor: "gas0",
      },
    ]);
    // The editor now shows the stored version; the devices have not fetched it yet.
    expect(await page.getAttribute("#threshold-set", "data-version")).toBe("2");
    expect(await shownRules(page)).toEqual([
      ["no2", ">=", "90", "ppb", "80", "", "warning", ""],
      ["co", ">", "35", "ppm", "", "1m", "warning", "gas0"],
    ]);
    expect((await cellTexts(page, "#threshold-status tr")).map((cells) => cells[1])).toEqual([
      "pending",
      "pending",
      "pending",
    ]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("a save of a set someone else changed since it was loaded is refused with the 412 message", async () => {
    const { page, errors } = await open();
    expect(await page.getAttribute("#threshold-set", "data-version")).toBe("2");
    const other = await put(
      { thresholds: [NO2_WARNING], changed_by: "lee" },
      { "if-match": `"${(await stored()).etag}"` },
    );
    expect(other.version).toBe(3);
    await page.fill("#threshold-rules tr.rule:nth-child(1) input[name=value]", "70");
    await page.click('#threshold-form button[type="submit"]');
    await expect
      .poll(() => page.textContent("#threshold-message"))
      .toBe(
        "Not saved: changed by someone else since you loaded it; reload, then redo your change.",
      );
    expect((await stored()).thresholds).toEqual([NO2_WARNING]);
    await expect
      .poll(() => page.textContent("#threshold-newer"))
      .toBe(
        "Version 3 was saved by lee since you loaded version 2: saving your edits would be refused; reload to start from it.",
      );
    expect(await page.inputValue("#threshold-rules tr.rule:nth-child(1) input[name=value]")).toBe(
      "70",
    );
    await page.click("#threshold-reload");
    await expect.poll(() => page.getAttribute("#threshold-set", "data-version")).toBe("3");
    expect(await shownRules(page)).toEqual([["no2", ">=", "100", "ppb", "80", "", "warning", ""]]);
    expect(await page.isHidden("#threshold-newer")).toBe(true);
    expect(errors).toEqual([refused(412)]);
    await page.close();
  });

  it("an invalid rule is refused with its problem shown at that rule, nothing stored", async () => {
    const { page, errors } = await open();
    for (const [gas, value, unit] of [
      ["co", "35", "ppm"],
      ["h2", "1000", "ppx"],
    ]) {
      await page.click("#threshold-add");
      const added = "#threshold-rules tr.rule:last-child";
      await page.fill(`${added} input[name=gas]`, gas ?? "");
      await page.fill(`${added} input[name=value]`, value ?? "");
      await page.fill(`${added} input[name=unit]`, unit ?? "");
    }
    await page.click('#threshold-form button[type="submit"]');
    await expect
      .poll(() => page.textContent("#threshold-message"))
      .toBe("Not saved (nothing was stored): 1 problem marked at the rules above.");
    const third = "#threshold-rules tr:nth-child(3)";
    expect(await page.getAttribute(third, "class")).toBe("rule invalid");
    expect(await page.getAttribute(`${third} input[name=unit]`, "aria-invalid")).toBe("true");
    expect(await page.textContent(`${third} + tr.problem`)).toBe(
      'thresholds[2].unit: Expected one of "ppm", "ppb", "%", "V", "mV", "raw"; got "ppx"',
    );
    expect(await page.locator("#threshold-rules tr.problem").count()).toBe(1);
    expect((await stored()).version).toBe(3);
    await screenshot(page, `fleet-thresholds-invalid-${kind}.png`);
    // Fixing the rule takes the mark away and saves.
    await page.fill(`${third} input[name=unit]`, "ppm");
    expect(await page.locator("#threshold-rules tr.problem").count()).toBe(0);
    await page.fill("#threshold-by", "kim");
    await page.click('#threshold-form button[type="submit"]');
    await expect
      .poll(() => page.textContent("#threshold-message"))
      .toBe("Saved as version 4. The group's devices apply it on their next sync.");
    expect(errors).toEqual([refused(422)]);
    await page.close();
  });

  it("a save the ingest refuses for its key says so, asks for the key, and keeps the edits", async () => {
    const { page, errors } = await open();
    await page.evaluate(`sessionStorage.setItem("sensord-api-key", "not-the-key")`);
    await page.click("#threshold-rules tr.rule:nth-child(3) button");
    await page.click('#threshold-form button[type="submit"]');
    await expect
      .poll(() => page.textContent("#threshold-message"))
      .toBe("Not saved: the ingest refused the API key; enter the right one above and save again.");
    expect(await page.textContent("#charts .empty h2")).toBe("Wrong API key");
    await page.fill("#api-key", KEY);
    await page.click('#key-form button[type="submit"]');
    await page.evaluate("window.sensordReady");
    expect((await shownRules(page)).length).toBe(2);
    await page.click('#threshold-form button[type="submit"]');
    await expect
      .poll(() => page.textContent("#threshold-message"))
      .toBe("Saved as version 5. The group's devices apply it on their next sync.");
    expect((await stored()).thresholds).toHaveLength(2);
    expect(errors).toEqual([refused(401)]);
    await page.close();
  });

  it("the history lists every version newest first, who changed it and its rules", async () => {
    const { page, errors } = await open();
    const rows = await cellTexts(page, "#threshold-history tr");
    expect(rows.map((cells) => cells[0])).toEqual(["5", "4", "3", "2", "1"]);
    expect(rows.map((cells) => cells[2])).toEqual(["-", "kim", "lee", "kim", "ops@lab"]);
    expect(rows.map((cells) => cells[3])).toEqual([
      "no2 >= 100 ppb, clear 80, warning; co >= 35 ppm, warning",
      "no2 >= 100 ppb, clear 80, warning; co >= 35 ppm, warning; h2 >= 1000 ppm, warning",
      "no2 >= 100 ppb, clear 80, warning",
      "no2 >= 90 ppb, clear 80, warning; co > 35 ppm, for 1m, warning, sensor gas0",
      "no2 >= 100 ppb, clear 80, warning; co >= 50, for 30s, critical",
    ]);
    expect(errors).toEqual([]);
    await page.close();
  });
});
