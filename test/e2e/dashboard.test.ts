import { writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DaemonProcess, killAllDaemons, makeTempDir, waitUntil } from "../support/processes.js";

/**
 * The device dashboard's HTTP API on the real sensord binary: config checks
 * (exit 78), the token, JSON/CSV/SSE endpoints, and /metrics and /healthz
 * unchanged. Binding a non-loopback address is not done here:
 * `require_token = true` exercises the token on loopback.
 */
const TOKEN = "e2e-dashboard-token-7f3a9c";
const temp = makeTempDir("sensord-dashboard-e2e-");
const tokenFile = join(temp.dir, "http-token");
const REPLAY =
  '[[sensors]]\nid = "gas0"\ndriver = "replay"\ninterval = "100ms"\nfile = "replay.ndjson"\nloop = true\n';
let daemon: DaemonProcess;
let base: string;
let db: Database.Database;

function writeConfig(name: string, http: string): string {
  const file = join(temp.dir, name);
  writeFileSync(
    file,
    `[storage]\npath = "sensord.db"\nflush_interval = "100ms"\n\n[control]\nsocket = ""\n\n[http]\n${http}\n\n${REPLAY}`,
  );
  return file;
}

beforeAll(async () => {
  writeFileSync(
    join(temp.dir, "replay.ndjson"),
    '{"co": 10, "no2": 50}\n{"co": 12.5, "no2": 60}\n',
  );
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  daemon = new DaemonProcess([
    "--config",
    writeConfig(
      "sensord.toml",
      `listen = "127.0.0.1:0"\nrequire_token = true\ntoken_file = "http-token"`,
    ),
  ]);
  base = (await daemon.waitForLog(/dashboard on (http:\/\/127\.0\.0\.1:\d+)\//))[1] ?? "";
  db = new Database(join(temp.dir, "sensord.db"), { readonly: true });
  await waitUntil(() => count() >= 20, 10_000, "readings in the database");
}, 30_000);

afterAll(async () => {
  db?.close();
  await killAllDaemons();
  temp.cleanup();
});

function count(): number {
  return db.prepare<[], { n: number }>("SELECT count(*) AS n FROM readings").get()?.n ?? 0;
}

const withToken = { "x-sensord-token": TOKEN };

describe("[http] token_file: config checks", () => {
  it.each([
    [
      'listen = "0.0.0.0:0"',
      /http\.token_file: is required because listen = "0\.0\.0\.0:0" is reachable from the network; set token_file = /,
    ],
    [
      'listen = "127.0.0.1:0"\ntoken_file = "missing-token"',
      /http\.token_file: cannot read the token file .*missing-token .*chmod 600/,
    ],
  ])("%s: exit 78 naming the file, the key and the fix", async (http, message) => {
    const file = writeConfig("bad.toml", http);
    const bad = new DaemonProcess(["--config", file]);
    const { code } = await bad.exited;
    expect(code).toBe(78);
    expect(bad.log).toContain(file);
    expect(bad.log).toMatch(message);
  });
});

describe("dashboard API with require_token = true", () => {
  it("refuses data without the right token; /metrics, /healthz and the page stay open", async () => {
    const attempts: Array<Record<string, string>> = [
      {},
      { "x-sensord-token": "wrong" },
      { authorization: "Bearer wrong" },
    ];
    for (const headers of attempts) {
      const response = await fetch(`${base}/api/status`, { headers });
      expect(response.status).toBe(401);
      expect(((await response.json()) as { error: string }).error).toMatch(
        /open \/\?token=<token> once/,
      );
    }
    expect((await fetch(`${base}/api/readings.csv`)).status).toBe(401);
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script type="module" src="/static/js/device.js">');
    expect((await fetch(`${base}/static/js/device.js`)).status).toBe(200);

    const status = await fetch(`${base}/api/status`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(status.status).toBe(200);
    const report = (await status.json()) as { running: boolean; sensors: Array<{ id: string }> };
    expect(report.running).toBe(true);
    expect(report.sensors.map((sensor) => sensor.id)).toEqual(["gas0"]);
    expect(daemon.log).not.toContain(TOKEN);
  });

  it("trades /?token= for an HttpOnly cookie and a redirect that drops it from the URL", async () => {
    const wrong = await fetch(`${base}/?token=nope`, { redirect: "manual" });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("set-cookie")).toBeNull();
    const right = await fetch(`${base}/?token=${TOKEN}`, { redirect: "manual" });
    expect(right.status).toBe(303);
    expect(right.headers.get("location")).toBe("/");
    const cookie = right.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^sensord_token=.+; Path=\/; HttpOnly; SameSite=Strict$/);
    const series = await fetch(`${base}/api/series?width=10`, {
      headers: { cookie: cookie.split(";")[0] ?? "" },
    });
    expect(series.status).toBe(200);
  });

  it("answers series, alerts and thresholds as JSON; refuses bad parameters with 400", async () => {
    const to = Date.now() + 1000;
    const series = (await (
      await fetch(`${base}/api/series?from=${to - 600_000}&to=${to}&width=1&gas=co`, {
        headers: withToken,
      })
    ).json()) as {
      lastSeq: number;
      buckets: number;
      lines: Array<{ gas: string; min: number[]; max: number[]; count: number[] }>;
    };
    expect(series.buckets).toBe(1);
    expect(series.lines.map((line) => line.gas)).toEqual(["co"]);
    const co = db
      .prepare<[number, number, number], { n: number; lo: number; hi: number }>(
        `SELECT count(*) AS n, min(value) AS lo, max(value) AS hi FROM readings r JOIN series s ON s.id = r.series
         WHERE s.gas = 'co' AND r.seq <= ? AND r.ts >= ? AND r.ts < ?`,
      )
      .get(series.lastSeq, to - 600_000, to);
    expect(series.lines[0]?.count).toEqual([co?.n]);
    expect([series.lines[0]?.min[0], series.lines[0]?.max[0]]).toEqual([10, 12.5]);

    const thresholds = (await (
      await fetch(`${base}/api/thresholds`, { headers: withToken })
    ).json()) as {
      lines: Array<{ key: string; value: number; unit: string }>;
    };
    expect(thresholds.lines).toContainEqual(
      expect.objectContaining({ key: "no2>=88ppb:warning", value: 88, unit: "ppb" }),
    );
    const alerts = await fetch(`${base}/api/alerts?limit=5`, { headers: withToken });
    expect(await alerts.json()).toEqual({ alerts: [], openAtStart: [] });

    const bad = await fetch(`${base}/api/series?widht=5`, { headers: withToken });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      error: 'unknown parameter "widht"; known: from, to, width, gas',
      param: "widht",
    });
    expect((await fetch(`${base}/api/nope`, { headers: withToken })).status).toBe(404);
  });

  it("streams the CSV of a range", async () => {
    const to = Date.now();
    const response = await fetch(
      `${base}/api/readings.csv?from=${to - 3_600_000}&to=${to}&gas=no2`,
      { headers: withToken },
    );
    expect(response.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(response.headers.get("content-disposition")).toMatch(
      /^attachment; filename=".+-readings\.csv"$/,
    );
    const lines = (await response.text()).trimEnd().split("\n");
    expect(lines[0]).toBe("id,sensor,gas,value,unit,ts,flags");
    const expected = db
      .prepare<[number, number], { n: number }>(
        `SELECT count(*) AS n FROM readings r JOIN series s ON s.id = r.series
         WHERE s.gas = 'no2' AND r.ts >= ? AND r.ts < ?`,
      )
      .get(to - 3_600_000, to)?.n;
    expect(lines.length - 1).toBe(expected);
    for (const line of lines.slice(1))
      expect(line).toMatch(/^[a-z2-7]{10}-r[0-9a-z]+,gas0,no2,(50|60),ppb,\d{4}-.+Z,$/);
  });

  it("pushes new readings and the status every second over server-sent events, resumable by id", async () => {
    const start =
      db.prepare<[], { seq: number }>("SELECT max(seq) AS seq FROM readings").get()?.seq ?? 0;
    // One tick at once, then three on the timer: enough to see the cadence.
    const first = await readEvents(`/api/events?after=r${start}`, {}, 4);
    expect(first.map((event) => event.event)).toEqual(["tick", "tick", "tick", "tick"]);
    // Every second, by sensord's own clock (the status each tick carries), not
    // by when they reach this process. Only the timer's ticks count (the one
    // at connect is off the beat if another page kept the timer running). A
    // late tick delays the next one's timer, so none comes sooner than a
    // second after the last; lateness on a busy machine only adds, so the
    // upper bound is on the sum.
    const stamps = first.slice(1).map((event) => event.data.status.daemon?.uptimeMs ?? Number.NaN);
    const gaps = stamps.slice(1).map((ms, index) => ms - (stamps[index] ?? Number.NaN));
    expect(gaps).toHaveLength(2);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(980);
    expect(gaps.reduce((sum, gap) => sum + gap, 0)).toBeLessThan(2 * 1000 + 1000);
    const seqs = first.flatMap((event) => event.data.readings.map((reading) => reading.seq));
    expect(seqs.length).toBeGreaterThan(0);
    expect(seqs[0]).toBe(start + 1);
    // Consecutive, none twice: every committed reading exactly once.
    expect(seqs).toEqual(seqs.map((_, at) => start + 1 + at));
    expect(first[1]?.data.status.running).toBe(true);
    const last = first[first.length - 1];
    expect(last?.id).toMatch(/^r\d+a\d+$/);
    const resumeAt = Number(/^r(\d+)/.exec(last?.id ?? "")?.[1]);
    expect(resumeAt).toBe(seqs[seqs.length - 1]);

    // EventSource sends Last-Event-ID when it reconnects: the stream picks up after it.
    // The first tick comes at once and may find nothing new yet; the next one has readings.
    const resumed = await readEvents("/api/events", { "last-event-id": last?.id ?? "" }, 2);
    const next = resumed.flatMap((event) => event.data.readings.map((reading) => reading.seq));
    expect(next[0]).toBe(resumeAt + 1);
  });

  it("stops within 5 s and exits 0 with a live client connected", async () => {
    const held = request(`${base}/api/events`, { headers: withToken });
    const connected = new Promise<void>((resolve) => held.on("response", () => resolve()));
    held.on("error", () => {});
    held.end();
    await connected;
    const started = Date.now();
    const { code } = await daemon.stop("SIGTERM");
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

interface TickEvent {
  id: string;
  event: string;
  data: {
    status: { running: boolean; daemon: { uptimeMs: number } | null };
    readings: Array<{ seq: number; sensor: string; gas: string; value: number }>;
  };
}

/** Reads `wanted` events from an SSE endpoint, then disconnects. */
async function readEvents(
  path: string,
  headers: Record<string, string>,
  wanted: number,
): Promise<TickEvent[]> {
  const controller = new AbortController();
  const response = await fetch(`${base}${path}`, {
    headers: { ...withToken, ...headers },
    signal: controller.signal,
  });
  expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
  const events: TickEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = "";
  const reader = response.body?.getReader();
  if (reader === undefined) throw new Error("no body");
  while (events.length < wanted) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf("\n\n");
    while (end !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf("\n\n");
      const fields = new Map(
        block
          .split("\n")
          .map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 2)]),
      );
      if (!fields.has("event")) continue;
      events.push({
        id: fields.get("id") ?? "",
        event: fields.get("event") ?? "",
        data: JSON.parse(fields.get("data") ?? "null") as TickEvent["data"],
      });
    }
  }
  controller.abort();
  return events.slice(0, wanted);
}
