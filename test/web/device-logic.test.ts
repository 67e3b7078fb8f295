import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../core/errors.js";
import { isLoopback } from "../../daemon/config/http.js";
import { parseConfig } from "../../daemon/config/load.js";
import { renderConfig } from "../../daemon/config/render.js";
import type { RuleInForce } from "../../daemon/control/rules.js";
import { parseCursor } from "../../daemon/dashboard/live.js";
import { BadParamError, parseDashboardParams } from "../../daemon/dashboard/params.js";
import { thresholdLines } from "../../daemon/dashboard/thresholds.js";
import { mayRead, presentedToken, TOKEN_COOKIE, tokenCookie } from "../../daemon/http/auth.js";
import { gapStarts, gasCharts, thresholdsInView } from "../../web/src/chart-data.js";
import { advance, type LiveView } from "../../web/src/live.js";
import { MACHINE } from "../config/helpers.js";
import { makeTempDir } from "../support/processes.js";

const temp = makeTempDir("sensord-dashboard-logic-");
afterAll(() => temp.cleanup());
const SENSOR = '[[sensors]]\nid = "gas0"\ndriver = "sim"\n';
const configFile = join(temp.dir, "sensord.toml");
const load = (http: string) =>
  parseConfig(`${SENSOR}\n[http]\n${http}\n`, configFile, { machine: MACHINE });

function problems(http: string): string[] {
  try {
    load(http);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.key}: ${p.message}`);
    throw error;
  }
  return [];
}

describe("[http] token_file and require_token", () => {
  const token = join(temp.dir, "http-token");
  writeFileSync(token, "s3cret-token-value\n");
  chmodSync(token, 0o600);

  it("loopback needs no token; a token file (relative to the config) turns it on", () => {
    expect(load('listen = "127.0.0.1:9464"').http.tokenFile).toBeNull();
    expect(load('listen = "[::1]:0"').http.tokenFile).toBeNull();
    expect(load('listen = "127.0.0.1:0"\ntoken_file = "http-token"').http.tokenFile).toBe(token);
  });

  it("off loopback, a token file is required: the problem names the key and the fix", () => {
    expect(problems('listen = "0.0.0.0:9464"')).toEqual([
      expect.stringMatching(
        /^http\.token_file: is required because listen = "0\.0\.0\.0:9464" is reachable from the network; set token_file = .*or listen on loopback/,
      ),
    ]);
    expect(problems(`listen = "192.168.1.20:9464"\ntoken_file = "${token}"`)).toEqual([]);
  });

  it("require_token = true on loopback needs the file too; false cannot open an exposed address", () => {
    expect(problems('listen = "127.0.0.1:0"\nrequire_token = true')).toEqual([
      expect.stringMatching(/^http\.token_file: is required because require_token = true/),
    ]);
    expect(
      problems(`listen = "[::]:9464"\ntoken_file = "${token}"\nrequire_token = false`),
    ).toEqual([
      expect.stringMatching(
        /^http\.require_token: cannot be false while listen = "\[::\]:9464" is reachable/,
      ),
    ]);
    expect(problems('listen = "127.0.0.1:0"\nrequire_token = "yes"')).toEqual([
      expect.stringMatching(/^http\.require_token: /),
    ]);
  });

  it("a missing or empty token file is a config problem that never shows a token", () => {
    expect(problems('listen = "127.0.0.1:0"\ntoken_file = "nope"')).toEqual([
      expect.stringMatching(
        new RegExp(
          `^http\\.token_file: cannot read the token file ${join(temp.dir, "nope")}.*chmod 600`,
        ),
      ),
    ]);
    const empty = join(temp.dir, "empty-token");
    writeFileSync(empty, "\n");
    expect(problems(`listen = "127.0.0.1:0"\ntoken_file = "${empty}"`)).toEqual([
      expect.stringMatching(/^http\.token_file: the token file .* is empty/),
    ]);
  });

  it("the rendered config keeps the token file (its path, not the token)", () => {
    const text = renderConfig(load('listen = "127.0.0.1:0"\ntoken_file = "http-token"'));
    expect(text).toContain(`token_file = "${token}"`);
    expect(text).not.toContain("s3cret");
  });

  it("isLoopback", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "::1", "localhost"])
      expect(isLoopback(host)).toBe(true);
    for (const host of ["0.0.0.0", "::", "10.0.0.2", "pi.local", "127.0.0.1.nip.io"])
      expect(isLoopback(host)).toBe(false);
  });
});

describe("dashboard token check", () => {
  it("reads the token from the header, a bearer authorization, or the cookie", () => {
    expect(presentedToken({ "x-sensord-token": "a" })).toBe("a");
    expect(presentedToken({ authorization: "Bearer b" })).toBe("b");
    expect(presentedToken({ cookie: `other=1; ${TOKEN_COOKIE}=c%3Bd` })).toBe("c;d");
    expect(presentedToken({ authorization: "Basic Zm9v", cookie: "x=y" })).toBeNull();
  });

  it("no configured token: everyone on loopback may read; with one, only its holder", () => {
    expect(mayRead(null, null)).toBe(true);
    expect(mayRead("t0ken", null)).toBe(false);
    expect(mayRead("t0ken", "t0ke")).toBe(false);
    expect(mayRead("t0ken", "t0ken ")).toBe(false);
    expect(mayRead("t0ken", "t0ken")).toBe(true);
  });

  it("the cookie is HttpOnly and same-site only", () => {
    expect(tokenCookie("a b")).toBe(`${TOKEN_COOKIE}=a%20b; Path=/; HttpOnly; SameSite=Strict`);
  });
});

describe("dashboard query parameters", () => {
  const now = Date.UTC(2026, 10, 26, 12);
  const parse = (query: string, known = ["from", "to", "width", "gas", "limit"]) =>
    parseDashboardParams(new URLSearchParams(query), known, now, 1000);

  it("default to the last hour; take epoch ms and ISO times with an offset", () => {
    expect(parse("")).toEqual({ fromMs: now - 3_600_000, toMs: now });
    expect(parse("from=1000&to=2000&width=50&gas=co&limit=3")).toEqual({
      fromMs: 1000,
      toMs: 2000,
      width: 50,
      gas: "co",
      limit: 3,
    });
    expect(parse("from=2026-11-26T10:00:00Z&to=2026-11-26T12:00:00%2B01:00")).toEqual({
      fromMs: Date.UTC(2026, 10, 26, 10),
      toMs: Date.UTC(2026, 10, 26, 11),
    });
  });

  it.each([
    ["widht=5", "widht", /unknown parameter "widht"/],
    ["gas=co&gas=no2", "gas", /given twice/],
    ["from=2026-11-26T10:00:00", "from", /ISO 8601 time with an offset/],
    ["from=2000&to=1000", "to", /must be after/],
    ["width=0", "width", /whole number from 1 to 5000/],
    ["limit=1001", "limit", /whole number from 1 to 1000/],
    // A gas that does not exist matches nothing: refused, not an empty answer.
    ["gas=carbon", "gas", /unknown gas "carbon"; known: co, no2, c2h5oh, h2/],
  ])("refuse %s", (query, param, message) => {
    try {
      parse(query);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(BadParamError);
      expect((error as BadParamError).param).toBe(param);
      expect((error as Error).message).toMatch(message);
    }
  });

  it("live cursors", () => {
    expect(parseCursor("r12a3")).toEqual({ readingSeq: 12, alertSeq: 3 });
    expect(parseCursor("r12")).toEqual({ readingSeq: 12, alertSeq: null });
    expect(parseCursor("12")).toBeNull();
    expect(parseCursor(null)).toBeNull();
  });
});

describe("threshold lines", () => {
  const rule = (
    overrides: Partial<RuleInForce["rule"]>,
    origin: RuleInForce["origin"] = "preset",
  ): RuleInForce => ({
    key: "k",
    origin,
    replaces: [],
    rule: {
      gas: "no2",
      op: ">=",
      value: 88,
      unit: null,
      clear: 79,
      forMs: 0,
      severity: "warning",
      sensor: null,
      ...overrides,
    },
  });

  it("one line per rule and unit the gas is stored in, converted to that unit", () => {
    const lines = thresholdLines(
      [
        rule({}),
        rule(
          { value: 0.2, unit: "ppm", clear: null, severity: "critical", sensor: "gas1" },
          "override",
        ),
      ],
      [
        { gas: "no2", unit: "ppb" },
        { gas: "no2", unit: "ppm" },
        { gas: "co", unit: "ppm" },
      ],
    );
    expect(lines.map((line) => [line.unit, line.value, line.clear, line.label])).toEqual([
      // A rule without a unit is in the channel's unit already.
      ["ppb", 88, 79, "warning >= 88 ppb"],
      ["ppm", 88, 79, "warning >= 88 ppm"],
      ["ppb", 200, null, "critical >= 200 ppb (gas1)"],
      ["ppm", 0.2, null, "critical >= 0.2 ppm (gas1)"],
    ]);
    expect(lines[2]?.origin).toBe("override");
  });

  it("leaves out a line for a unit the rule cannot convert to", () => {
    expect(thresholdLines([rule({ unit: "ppb" })], [{ gas: "no2", unit: "raw" }])).toEqual([]);
  });
});

describe("live view", () => {
  const view = (): LiveView => ({
    anchorMs: 1000,
    bucketMs: 100,
    fromMs: 1000,
    toMs: 2000,
    lastSeq: 10,
    lines: [
      {
        device: "pi",
        group: "1",
        sensor: "gas0",
        gas: "co",
        unit: "ppm",
        t: [1000, 1900],
        min: [1, 5],
        max: [2, 7],
        avg: [1.5, 6],
        count: [2, 2],
      },
    ],
  });
  let seq = 10;
  const reading = (ts: number, value: number, gas = "co") => ({
    seq: ++seq,
    sensor: "gas0",
    gas,
    unit: "ppm",
    ts,
    value,
  });

  it("folds readings into the server's bucket grid, exactly", () => {
    const next = advance(view(), [reading(1950, 10), reading(1999, 2), reading(2000, 4)], 2000);
    const line = next.lines[0];
    expect(line?.t).toEqual([1000, 1900, 2000]);
    expect(line?.min).toEqual([1, 2, 4]);
    expect(line?.max).toEqual([2, 10, 4]);
    expect(line?.avg).toEqual([1.5, (12 + 10 + 2) / 4, 4]);
    expect(line?.count).toEqual([2, 4, 1]);
  });

  it("skips readings the view already holds (seq at or below its lastSeq)", () => {
    const start = view();
    const next = advance(start, [{ ...reading(1950, 99), seq: 10 }, reading(1960, 1)], 2000);
    expect(next.lines[0]?.max).toEqual([2, 7]);
    expect(next.lines[0]?.min).toEqual([1, 1]);
    expect(next.lines[0]?.count).toEqual([2, 3]);
    expect(next.lastSeq).toBe(seq);
  });

  it("slides the window with the clock, dropping buckets that left it", () => {
    const next = advance(view(), [reading(2150, 3)], 2150);
    expect([next.fromMs, next.toMs]).toEqual([1150, 2150]);
    // Bucket 1000..1100 ended before 1150: gone; 1100..1200 would stay.
    expect(next.lines[0]?.t).toEqual([1900, 2100]);
  });

  it("a late reading lands in its own bucket; a new gas gets a new line", () => {
    const next = advance(view(), [reading(1512, 9), reading(1990, 1, "h2")], 2000);
    expect(next.lines[0]?.t).toEqual([1000, 1500, 1900]);
    expect(next.lines[1]).toMatchObject({
      gas: "h2",
      device: "pi",
      t: [1900],
      min: [1],
      count: [1],
    });
  });
});

describe("thresholds in view", () => {
  const data = {
    gas: "h2",
    unit: "ppm",
    lines: [{ label: "gas1", name: "gas1", device: "gas1" }],
    x: [1, 2],
    avg: [[5, 6]],
    min: [[4, null]],
    max: [[6, 7]],
  };
  const line = (value: number) => ({
    gas: "h2",
    value,
    unit: "ppm",
    severity: "warning",
    label: `>= ${value}`,
  });

  it("draws thresholds near the data and names the ones far above it", () => {
    const { shown, offScale } = thresholdsInView([line(15), line(21), line(22), line(4000)], data);
    // The highest max is 7: up to 3 x 7 = 21 is drawn.
    expect(shown.map((threshold) => threshold.value)).toEqual([15, 21]);
    expect(offScale.map((threshold) => threshold.value)).toEqual([22, 4000]);
  });

  it("with no data yet every threshold is drawn", () => {
    const empty = { ...data, avg: [[]], min: [[]], max: [[]], x: [] };
    expect(thresholdsInView([line(4000)], empty).shown).toHaveLength(1);
  });
});

describe("line gaps", () => {
  it("breaks a line after a silence much longer than its usual spacing", () => {
    // Every 10 s in 1-s buckets, then 17 h off, then every 10 s again.
    const t = [0, 10_000, 20_000, 30_000, 61_230_000, 61_240_000];
    expect(gapStarts(t, 1000)).toEqual([31_000]);
    expect(gapStarts([0, 10_000, 20_000], 1000)).toEqual([]);
    expect(gapStarts([0, 5000, 9000], 1000)).toEqual([]);
    expect(gapStarts([5], 1000)).toEqual([]);
  });

  it("gasCharts puts a null slot in the gap (uPlot breaks the line there); without bucketMs it does not", () => {
    const line = {
      device: "gas0",
      group: "",
      sensor: "gas0",
      gas: "co",
      unit: "ppm",
      t: [0, 1000, 2000, 90_000, 91_000],
      min: [1, 2, 3, 4, 5],
      max: [1, 2, 3, 4, 5],
      avg: [1, 2, 3, 4, 5],
      count: [1, 1, 1, 1, 1],
    };
    const [chart] = gasCharts([line], 1000);
    expect(chart?.x).toEqual([0, 1, 2, 3, 90, 91]);
    expect(chart?.avg).toEqual([[1, 2, 3, null, 4, 5]]);
    expect(chart?.min).toEqual([[1, 2, 3, null, 4, 5]]);
    expect(gasCharts([line])[0]?.avg).toEqual([[1, 2, 3, 4, 5]]);
  });
});
