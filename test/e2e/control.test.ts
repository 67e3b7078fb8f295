import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, lstatSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { StatusReport } from "../../daemon/control/status.js";
import type { AlertEvent } from "../../schemas/alert.js";
import type { Reading } from "../../schemas/reading.js";
import { type RecordingServer, startRecordingServer } from "../support/http/recording-server.js";
import {
  cleanEnv,
  DaemonProcess,
  jsonLines,
  killAllDaemons,
  makeTempDir,
  ROOT,
  type RunResult,
  SENSORCTL,
  sensorctl,
  waitUntil,
} from "../support/processes.js";

/** Steady 50 ppb NO2, one line per 100 ms tick, forever. */
const REPLAY = '{"no2": 50, "co": 5}\n';
const INTERVAL_MS = 100;

function config(extra = ""): string {
  return `[device]
id = "pi-ctl"

[storage]
path = "sensord.db"
flush_interval = "50ms"

[control]
socket = "sensord.sock"

[http]
listen = ""

[[sensors]]
id = "gas0"
driver = "replay"
interval = "${INTERVAL_MS}ms"
file = "replay.ndjson"
loop = true
${extra}`;
}

/** sensorctl without blocking this process (a test HTTP server here must keep answering). */
function sensorctlAsync(args: string[]): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SENSORCTL, ...args], { cwd: ROOT, env: cleanEnv() });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Gases with a committed reading, read-only from the database file. */
function storedGases(dir: string): Set<string> {
  const db = new Database(join(dir, "sensord.db"), { readonly: true });
  try {
    const rows = db
      .prepare<[], { gas: string }>(
        "SELECT DISTINCT s.gas FROM readings r JOIN series s ON s.id = r.series",
      )
      .all();
    return new Set(rows.map((row) => row.gas));
  } finally {
    db.close();
  }
}

/** Rules whose latest alert event is a raise: the active alarms, from the database file. */
function activeRules(dir: string): string[] {
  const db = new Database(join(dir, "sensord.db"), { readonly: true });
  try {
    const latest = new Map<string, string>();
    const rows = db
      .prepare<[], { rule: string; kind: string }>("SELECT rule, kind FROM alerts ORDER BY seq")
      .all();
    for (const row of rows) latest.set(row.rule, row.kind);
    return [...latest].filter(([, kind]) => kind === "raise").map(([rule]) => rule);
  } finally {
    db.close();
  }
}

describe("sensorctl against a running sensord over its socket", () => {
  let dir: string;
  let cleanup: () => void;
  let file: string;
  const ctl = (...args: string[]) => sensorctl(["--config", file, ...args]);
  const ctlAsync = (...args: string[]) => sensorctlAsync(["--config", file, ...args]);
  const start = async () => {
    const daemon = new DaemonProcess(["--config", file]);
    await daemon.waitForLog(/control socket .*sensord\.sock/);
    return daemon;
  };

  beforeEach(() => {
    ({ dir, cleanup } = makeTempDir());
    writeFileSync(join(dir, "replay.ndjson"), REPLAY);
    file = join(dir, "sensord.toml");
    writeFileSync(file, config());
  });
  afterEach(async () => {
    await killAllDaemons();
    cleanup();
  });

  it("threshold set raises an alarm in the running daemon within one sample, and survives a restart", {
    // ~12 sensorctl runs, two daemon starts: seconds idle, more on a busy 2-core machine.
    timeout: 60_000,
  }, async () => {
    const daemon = await start();
    const socket = join(dir, "sensord.sock");
    expect(lstatSync(socket).isSocket()).toBe(true);
    expect(statSync(socket).mode & 0o777).toBe(0o660);

    // Waiting reads the database (a sensorctl per poll costs ~0.4 s of CPU);
    // what is asserted comes from sensorctl, several at once where they only read.
    await waitUntil(() => storedGases(dir).size === 2, 5000, "first readings");
    const [noAlarm, before] = await Promise.all([
      ctlAsync("alerts", "--active", "--format", "json"),
      ctlAsync("threshold", "list", "--json"),
    ]);
    expect(jsonLines<AlertEvent>(noAlarm.stdout)).toEqual([]);
    expect(before.code).toBe(0);
    const listed = JSON.parse(before.stdout) as {
      running: boolean;
      rules: { key: string; origin: string }[];
    };
    expect(listed.running).toBe(true);
    expect(listed.rules.find((entry) => entry.key === "no2>=88ppb:warning")?.origin).toBe("preset");

    const setAt = Date.now();
    const set = ctl("threshold", "set", "no2", "40", "--unit", "ppb", "--clear", "35");
    const setDoneAt = Date.now();
    expect(set.code).toBe(0);
    expect(set.stdout).toBe(
      "no2>=40ppb:warning: replaces no2>=88ppb:warning (preset)\napplied by the running sensord\n",
    );
    await waitUntil(() => activeRules(dir).length === 1, 5000, "the override's alarm");
    const [active, json, human, recent] = await Promise.all([
      ctlAsync("alerts", "--active", "--format", "json"),
      ctlAsync("status", "--json"),
      ctlAsync("status"),
      ctlAsync(
        ...["readings", "--gas", "no2", "--format", "json", "--limit", "100000"],
        ...["--since", new Date(setAt - 2000).toISOString()],
      ),
    ]);
    const [raised] = jsonLines<AlertEvent>(active.stdout);
    expect(raised).toMatchObject({
      rule: "no2>=40ppb:warning",
      kind: "raise",
      value: 50,
      threshold: 40,
    });
    // Raised within one sample, told by the readings rather than the wall
    // clock: no reading taken after `threshold set` returned ("applied") went
    // by without raising. The raise's own reading may be older: its sample
    // may have started before the change and been judged after it.
    const raisedAt = Date.parse(raised?.ts ?? "");
    expect(raisedAt).toBeGreaterThanOrEqual(setAt);
    const no2 = jsonLines<Reading>(recent.stdout);
    const cause = no2.findIndex((reading) => reading.id === raised?.readingId);
    expect(cause).toBeGreaterThanOrEqual(0);
    const judgedByTheOldRule = no2
      .slice(0, cause)
      .filter((reading) => Date.parse(reading.ts) > setDoneAt);
    expect(judgedByTheOldRule).toEqual([]);
    expect(daemon.log).not.toMatch(/sensord started.*\n[\s\S]*sensord started/);

    const report = JSON.parse(json.stdout) as StatusReport;
    expect(report.running).toBe(true);
    expect(report.daemon).toMatchObject({ pid: daemon.pid, device: "pi-ctl", config: file });
    expect(report.alarms).toEqual([
      expect.objectContaining({
        rule: "no2>=40ppb:warning",
        sensor: "gas0",
        gas: "no2",
        severity: "warning",
      }),
    ]);
    expect(report.sensors[0]).toMatchObject({
      id: "gas0",
      driver: "replay",
      state: "ok",
      errorCount: 0,
    });
    expect(report.sensors[0]?.values.map((value) => [value.gas, value.value, value.unit])).toEqual([
      ["no2", 50, "ppb"],
      ["co", 5, "ppm"],
    ]);
    expect(report.buffer).toMatchObject({
      uploadPending: null,
      maxBytes: 256 * 1024 ** 2,
      droppedReadings: 0,
    });
    expect(report.sync).toBeNull();
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(
      /^sensord \d+\.\d+\.\d+: running, pid \d+, up \d+s, device pi-ctl$/m,
    );
    expect(human.stdout).toMatch(/^ {2}gas0 \(replay\): ok, no errors$/m);
    expect(human.stdout).toMatch(/^ {2}WARNING {2}gas0 {2}no2>=40ppb:warning {2}since \d+s ago$/m);

    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
    expect(existsSync(socket)).toBe(false);

    // Down: exit 69, and still what the database knows.
    const [down, downJson] = await Promise.all([ctlAsync("status"), ctlAsync("status", "--json")]);
    expect(down.code).toBe(69);
    expect(down.stderr).toContain(`sensord is not running (nothing answers on ${socket})`);
    expect(down.stdout).toContain("sensord: NOT RUNNING");
    expect(down.stdout).toMatch(/^ {2}WARNING {2}gas0 {2}no2>=40ppb:warning/m);
    expect(downJson.code).toBe(69);
    const offline = JSON.parse(downJson.stdout) as StatusReport;
    expect(offline).toMatchObject({ running: false, daemon: null, sync: null });
    expect(offline.sensors[0]?.values.map((value) => value.gas).sort()).toEqual(["co", "no2"]);
    expect(offline.buffer.databaseBytes).toBeGreaterThan(0);

    // Stored while down, applied at the next start.
    const offlineSet = ctl("threshold", "set", "co", "4", "--severity", "critical");
    expect(offlineSet.code).toBe(0);
    expect(offlineSet.stdout).toBe(
      "co>=4:critical: replaces co>=200ppm:critical (preset)\nsensord is not running: stored, applies at next start\n",
    );
    const offlineList = ctl("threshold", "list");
    expect(offlineList.stdout).toMatch(
      /^override +no2 +>= 40 ppb +35 +0s +warning +\* +replaces no2>=88ppb:warning$/m,
    );
    expect(offlineList.stdout).toContain("(sensord is not running: these apply at its next start)");

    const again = await start();
    await again.waitForLog(
      /threshold overrides from sensorctl in force: no2>=40ppb:warning, co>=4:critical/,
    );
    await waitUntil(() => activeRules(dir).length === 2, 5000, "the offline override's alarm");
    const [all, list] = await Promise.all([
      ctlAsync("alerts", "--format", "json"),
      ctlAsync("threshold", "list", "--json"),
    ]);
    // The NO2 alarm was restored, not raised a second time.
    const raises = jsonLines<AlertEvent>(all.stdout).filter(
      (alert) => alert.rule === "no2>=40ppb:warning",
    );
    expect(raises).toHaveLength(1);
    const origins = JSON.parse(list.stdout) as {
      rules: { key: string; origin: string; replaces: string[] }[];
    };
    expect(origins.rules.filter((entry) => entry.origin === "override")).toEqual([
      expect.objectContaining({ key: "no2>=40ppb:warning", replaces: ["no2>=88ppb:warning"] }),
      expect.objectContaining({ key: "co>=4:critical", replaces: ["co>=200ppm:critical"] }),
    ]);

    // reset: back to the preset's rule; the override's alarm clears at the next reading.
    const reset = ctl("threshold", "reset", "no2");
    expect(reset.code).toBe(0);
    expect(reset.stdout).toContain("back to no2>=88ppb:warning");
    await waitUntil(
      () => activeRules(dir).every((rule) => !rule.startsWith("no2")),
      5000,
      "the NO2 clear",
    );
    // rm of a preset rule hides it until reset; rm again finds nothing (exit 1).
    expect(ctl("threshold", "rm", "co", "--severity", "critical").code).toBe(0);
    const missing = ctl("threshold", "rm", "co", "--severity", "critical");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no rule in force for co:critical");
    expect(await again.stop()).toEqual({ code: 0, signal: null });
  });

  it.each([
    [["threshold", "set", "xenon", "4"], "xenon"],
    [["threshold", "set", "no2", "NaN"], "value"],
    [["threshold", "set", "no2", "40", "--for", "-5s"], "--for"],
    [["threshold", "set", "no2", "40", "--op", "=="], "--op"],
    [["threshold", "set", "no2", "40", "--clear", "50"], "--clear"],
    [["threshold", "set", "no2", "40", "--sensor", "gas9"], "--sensor"],
    [["threshold", "rm", "no2", "--severity", "fatal"], "--severity"],
  ])("exits 2 for %j naming %s, whether sensord runs or not", async (args, named) => {
    const down = ctl(...args);
    expect(down.code).toBe(2);
    expect(down.stderr).toContain(named);
  });

  it("bad arguments are refused by the running daemon too (exit 2), and change nothing", async () => {
    await start();
    const result = ctl("threshold", "set", "no2", "40", "--unit", "V");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      '--unit: threshold unit "V" cannot be compared with no2 readings',
    );
    const list = JSON.parse(ctl("threshold", "list", "--json").stdout) as {
      rules: { origin: string }[];
    };
    expect(list.rules.some((entry) => entry.origin === "override")).toBe(false);
  });

  it("a second sensord on the same socket refuses to start; a stale socket file is replaced", async () => {
    const first = await start();
    const second = spawnSync(
      process.execPath,
      [join(ROOT, "dist/daemon/main.js"), "--config", file],
      {
        env: cleanEnv(),
        encoding: "utf8",
        timeout: 10_000,
      },
    );
    expect(second.status).toBe(1);
    expect(second.stderr).toContain(
      `control socket ${join(dir, "sensord.sock")}: another sensord is running`,
    );
    expect(ctl("status").code).toBe(0);
    // A crash leaves the socket file behind; the next start finds nobody answering and takes it over.
    first.signal("SIGKILL");
    await first.exited;
    expect(lstatSync(join(dir, "sensord.sock")).isSocket()).toBe(true);
    expect(ctl("status").code).toBe(69);
    const next = await start();
    expect(ctl("status").code).toBe(0);
    await next.stop();
  });

  it("a user outside the socket's group gets exit 77 and the fix", async () => {
    await start();
    // The socket is root's and mode 0660; nobody may traverse to it but not connect.
    chmodSync(dir, 0o755);
    chmodSync(file, 0o644);
    const result = spawnSync(
      "setpriv",
      [
        "--reuid=nobody",
        "--regid=nogroup",
        "--clear-groups",
        process.execPath,
        SENSORCTL,
        "--config",
        file,
        "status",
      ],
      { cwd: "/", env: cleanEnv(), encoding: "utf8", timeout: 10_000 },
    );
    expect(result.stderr).toContain(`permission denied on ${join(dir, "sensord.sock")}`);
    expect(result.stderr).toContain("sensord group");
    expect(result.status).toBe(77);
  });

  describe("sync now", () => {
    let server: RecordingServer;
    beforeEach(async () => {
      server = await startRecordingServer();
    });
    afterEach(async () => {
      await server.close();
    });

    it("uploads on demand and --wait reports progress as plain lines, then the total", async () => {
      // A schedule that never comes during the test: only the start-up cycle and `sync now` upload.
      writeFileSync(
        file,
        config(`\n[sync]\nendpoint = "${server.url}/ingest"\nschedule = "0 0 1 1 *"\n`),
      );
      await start();
      // Readings accumulate; the start-up cycle ran before there were any.
      await new Promise((resolve) => setTimeout(resolve, 5 * INTERVAL_MS));
      const afterStartup = server.requests.length;
      const result = await sensorctlAsync(["--config", file, "sync", "now", "--wait"]);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      const lines = result.stdout.trim().split("\n");
      expect(
        lines
          .slice(0, -1)
          .every((line) => /^uploaded \d+, pending \d+, \d+ readings\/s$/.test(line)),
      ).toBe(true);
      const done = /^done: (\d+) readings uploaded, \d+ pending$/.exec(lines.at(-1) ?? "");
      expect(Number(done?.[1])).toBeGreaterThanOrEqual(8);
      expect(server.requests.length).toBeGreaterThan(afterStartup);
      const report = JSON.parse(
        (await sensorctlAsync(["--config", file, "status", "--json"])).stdout,
      ) as StatusReport;
      expect(report.sync).toMatchObject({ endpoint: `${server.url}/ingest`, lastError: null });
      // Every output in one shape: the readings upload and the alert upload of [sync].
      expect(report.outputs?.map((output) => output.name)).toEqual(["http", "alerts"]);
      expect(report.outputs?.[0]).toMatchObject({ state: "idle", lastError: null });
      expect(report.outputs?.[0]?.deliveredTotal).toBeGreaterThanOrEqual(Number(done?.[1]));
    });

    it("--wait exits 1 with the reason when the endpoint fails, keeping the readings", async () => {
      writeFileSync(
        file,
        config(`\n[sync]\nendpoint = "${server.url}/ingest"\nschedule = "0 0 1 1 *"\n`),
      );
      server.respond({ status: 503, body: "down for maintenance" });
      await start();
      const result = await sensorctlAsync(["--config", file, "sync", "now", "--wait"]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /^sensorctl: upload failed: .*503.*; \d+ readings kept, sensord retries by itself/,
      );
    });

    it("without [sync] says uploads are off (exit 1); with sensord down exits 69", async () => {
      expect(ctl("sync", "now").code).toBe(69);
      await start();
      const off = ctl("sync", "now");
      expect(off.code).toBe(1);
      expect(off.stderr).toContain("uploads are off: the config has no [sync] section");
    });
  });
});
