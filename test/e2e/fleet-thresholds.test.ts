import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RuleInForce } from "../../daemon/control/rules.js";
import type { StatusReport } from "../../daemon/control/status.js";
import type { AlertEvent } from "../../schemas/alert.js";
import type { FleetRule } from "../../schemas/fleet-thresholds.js";
import { IngestProcess, killAllIngest } from "../cloud/ingest-process.js";
import { send } from "../support/http/client.js";
import { type FaultProxy, startFaultProxy } from "../support/http/fault-proxy.js";
import {
  DaemonProcess,
  jsonLines,
  killAllDaemons,
  makeTempDir,
  sensorctl,
} from "../support/processes.js";

const KEY = "fleet-e2e-key";
/** The sync period: a fleet change must reach a Pi within one of these, plus slack. */
const CYCLE_MS = 400;
const SLACK_MS = 1600;
const GROUP = "school-1";

/** no2 at a steady 90 ppb: under the config's 100 ppb rule, over a fleet rule of 80. */
const NO2 = JSON.stringify({ no2: 90 });

interface Pi {
  id: string;
  config: string;
  daemon: DaemonProcess;
}

const no2 = (value: number): FleetRule => ({ gas: "no2", value, unit: "ppb" });

describe("fleet thresholds end to end: sensord-ingest's desired set -> two sensord Pis -> reported back", () => {
  let dir: string;
  let cleanup: () => void;
  let ingestUrl: string;
  let proxy: FaultProxy;

  beforeEach(async () => {
    ({ dir, cleanup } = makeTempDir("sensord-fleet-"));
    writeFileSync(join(dir, "api-key"), `${KEY}\n`, { mode: 0o600 });
    const ingest = new IngestProcess([
      "--listen",
      "127.0.0.1:0",
      "--db",
      join(dir, "ingest.db"),
      "--api-key-file",
      join(dir, "api-key"),
    ]);
    ingestUrl = await ingest.ready();
    // Between the Pis and the ingest, so a test can take the ingest away from them alone.
    proxy = await startFaultProxy(ingestUrl);
  });
  afterEach(async () => {
    await killAllDaemons();
    await killAllIngest();
    await proxy.close();
    cleanup();
  });

  function writePi(id: string, extra = ""): string {
    const home = join(dir, id);
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, "no2.ndjson"), `${NO2}\n`);
    const file = join(home, "sensord.toml");
    writeFileSync(
      file,
      `[device]
id = "${id}"
group = "${GROUP}"

[[sensors]]
id = "gas0"
driver = "replay"
file = "no2.ndjson"
loop = true
interval = "50ms"

[thresholds_preset]
preset = "none"

[[thresholds]]
gas = "no2"
value = 100
unit = "ppb"

[storage]
path = "sensord.db"
flush_interval = "20ms"

[control]
socket = "sensord.sock"

[sync]
endpoint = "${new URL("/ingest", proxy.url).href}"
interval = "${CYCLE_MS}ms"
timeout = "2s"
api_key_file = "${join(dir, "api-key")}"
${extra}`,
    );
    return file;
  }

  async function startPi(id: string, config = writePi(id)): Promise<Pi> {
    const daemon = new DaemonProcess(["--config", config]);
    await daemon.waitForLog(/sensord started/);
    return { id, config, daemon };
  }

  const ingestPort = () => Number(new URL(ingestUrl).port);

  async function put(query: string, thresholds: FleetRule[]): Promise<string> {
    const answer = await send(ingestPort(), "PUT", `/fleet/thresholds?${query}`, {
      headers: { "content-type": "application/json", "x-api-key": KEY },
      body: JSON.stringify({ thresholds, changed_by: "e2e" }),
    });
    expect(answer.status).toBe(200);
    return (JSON.parse(answer.body) as { etag: string }).etag;
  }

  interface DeviceState {
    device: string;
    state: string;
    reported_etag: string | null;
    reason: string | null;
  }

  async function fleetStatus(): Promise<DeviceState[]> {
    const answer = await send(ingestPort(), "GET", `/fleet/thresholds/status?group=${GROUP}`, {
      headers: { "x-api-key": KEY },
    });
    return (JSON.parse(answer.body) as { devices: DeviceState[] }).devices;
  }

  function rules(pi: Pi): RuleInForce[] {
    const result = sensorctl(["--config", pi.config, "threshold", "list", "--json"]);
    expect(result.code).toBe(0);
    return (JSON.parse(result.stdout) as { rules: RuleInForce[] }).rules;
  }

  function status(pi: Pi): StatusReport {
    const result = sensorctl(["--config", pi.config, "status", "--json"]);
    return JSON.parse(result.stdout) as StatusReport;
  }

  function alerts(pi: Pi): AlertEvent[] {
    const result = sensorctl([
      "--config",
      pi.config,
      "alerts",
      "--format",
      "json",
      "--limit",
      "1000",
    ]);
    expect(result.code).toBe(0);
    return jsonLines<AlertEvent>(result.stdout);
  }

  /** Reads until `done` holds (or 5 s pass); returns the last value read. */
  async function eventually<T>(
    read: () => Promise<T> | T,
    done: (value: T) => boolean,
  ): Promise<T> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const value = await read();
      if (done(value) || Date.now() > deadline) return value;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  const events = (pi: Pi) => alerts(pi).map((alert) => `${alert.kind} ${alert.rule}`);
  const cycles = (count: number) => new Promise((resolve) => setTimeout(resolve, count * CYCLE_MS));
  const firstCycle = (pi: Pi) =>
    pi.daemon.waitForLog(/fleet thresholds none: the fleet sets no rules/);

  const applied = (pi: Pi, etag: string) =>
    pi.daemon.waitForLog(new RegExp(`fleet thresholds ${etag} applied`), CYCLE_MS + SLACK_MS);

  /** pi-a running the group's 80 ppb rule, its alarm raised (once) by the steady 90 ppb. */
  async function alarmedUnderGroupSet(extra = ""): Promise<{ pi: Pi; etag: string }> {
    const pi = await startPi("pi-a", writePi("pi-a", extra));
    const etag = await put(`group=${GROUP}`, [no2(80)]);
    await applied(pi, etag);
    await eventually(
      () => events(pi),
      (list) => list.length === 1,
    );
    expect(events(pi)).toEqual(["raise no2>=80ppb:warning"]);
    return { pi, etag };
  }

  it("a group change reaches both Pis within one sync cycle, shows as the fleet rule, and is reported in_sync", {
    timeout: 30_000,
  }, async () => {
    const [a, b] = await Promise.all([startPi("pi-a"), startPi("pi-b")]);
    // The first cycle: no set for the group yet, the config's rules stay.
    await Promise.all(
      [a, b].map((pi) => pi.daemon.waitForLog(/fleet thresholds none: the fleet sets no rules/)),
    );
    expect(rules(a)).toEqual([
      expect.objectContaining({ key: "no2>=100ppb:warning", origin: "config" }),
    ]);

    const etag = await put(`group=${GROUP}`, [no2(80)]);
    await Promise.all([applied(a, etag), applied(b, etag)]);
    for (const pi of [a, b]) {
      expect(rules(pi)).toEqual([
        {
          key: "no2>=80ppb:warning",
          origin: "fleet",
          etag,
          replaces: ["no2>=100ppb:warning"],
          rule: {
            gas: "no2",
            op: ">=",
            value: 80,
            unit: "ppb",
            clear: null,
            forMs: 0,
            severity: "warning",
            sensor: null,
          },
        },
      ]);
      const list = sensorctl(["--config", pi.config, "threshold", "list"]);
      expect(list.stdout).toContain(`fleet ${etag}`);
    }
    const devices = await eventually(
      fleetStatus,
      (list) => list.length === 2 && list.every((device) => device.state === "in_sync"),
    );
    expect(devices).toEqual([
      expect.objectContaining({
        device: "pi-a",
        state: "in_sync",
        reported_etag: etag,
        reason: null,
      }),
      expect.objectContaining({
        device: "pi-b",
        state: "in_sync",
        reported_etag: etag,
        reason: null,
      }),
    ]);
    // Every upload carries the report; the fleet state is in sensorctl status too.
    const headers = proxy.requests
      .filter((request) => request.method === "POST")
      .map((request) => request.headers["x-sensord-thresholds"]);
    expect(headers).toContain(`applied;etag="${etag}"`);
    // Each cycle asks with the etag it holds, the upload's key and user agent.
    const asks = proxy.requests.filter((request) => request.method === "GET");
    expect(new Set(asks.map((request) => request.path))).toEqual(
      new Set([
        `/fleet/desired?device=pi-a&group=${GROUP}`,
        `/fleet/desired?device=pi-b&group=${GROUP}`,
      ]),
    );
    expect(asks.at(-1)?.headers).toMatchObject({
      "if-none-match": `"${etag}"`,
      "x-api-key": KEY,
      "user-agent": expect.stringMatching(/^sensord\//),
    });
    expect(status(a).fleet).toMatchObject({
      applied: { etag, source: "group", version: 1, rules: 1 },
      refused: null,
    });
  });

  it("a device set beats its group's; a local sensorctl override beats both", {
    timeout: 30_000,
  }, async () => {
    const [a, b] = await Promise.all([startPi("pi-a"), startPi("pi-b")]);
    await Promise.all([firstCycle(a), firstCycle(b)]);
    const group = await put(`group=${GROUP}`, [no2(80)]);
    const device = await put("device=pi-a", [no2(120)]);
    await Promise.all([applied(a, device), applied(b, group)]);
    expect(rules(a).map((entry) => [entry.origin, entry.key, entry.etag])).toEqual([
      ["fleet", "no2>=120ppb:warning", device],
    ]);
    expect(rules(b).map((entry) => [entry.origin, entry.key, entry.etag])).toEqual([
      ["fleet", "no2>=80ppb:warning", group],
    ]);
    // 90 ppb: over b's group rule, under a's device rule.
    await eventually(
      () => status(b).alarms,
      (alarms) => alarms.length === 1,
    );
    expect(status(b).alarms.map((alarm) => alarm.rule)).toEqual(["no2>=80ppb:warning"]);
    expect(status(a).alarms).toEqual([]);

    const set = sensorctl(["--config", a.config, "threshold", "set", "no2", "85", "--unit", "ppb"]);
    expect(set.code).toBe(0);
    expect(rules(a)).toEqual([
      expect.objectContaining({
        key: "no2>=85ppb:warning",
        origin: "override",
        replaces: ["no2>=100ppb:warning", "no2>=120ppb:warning"],
      }),
    ]);
    await eventually(
      () => status(a).alarms,
      (alarms) => alarms.length === 1,
    );
    expect(status(a).alarms.map((alarm) => alarm.rule)).toEqual(["no2>=85ppb:warning"]);
    // A later device set does not lift the override either.
    const later = await put("device=pi-a", [no2(110)]);
    await applied(a, later);
    expect(rules(a).map((entry) => entry.key)).toEqual(["no2>=85ppb:warning"]);
  });

  it("a Pi cut off during a change applies it when the ingest is back; restarted offline it keeps the last set", {
    timeout: 40_000,
  }, async () => {
    const a = await startPi("pi-a");
    await firstCycle(a);
    await proxy.refuse();
    const etag = await put(`group=${GROUP}`, [no2(80)]);
    await cycles(4);
    expect(a.daemon.log.match(/cannot fetch fleet thresholds/g)).toHaveLength(1);
    expect(rules(a).map((entry) => entry.origin)).toEqual(["config"]);

    await proxy.reopen();
    await applied(a, etag);
    expect(a.daemon.log).toMatch(/fleet thresholds reachable again/);
    await eventually(
      () => events(a),
      (list) => list.length === 1,
    );
    expect(events(a)).toEqual(["raise no2>=80ppb:warning"]);

    await a.daemon.stop();
    // sensord down: the database alone still tells which set it runs.
    expect(status(a)).toMatchObject({
      running: false,
      fleet: { applied: { etag, source: "group" } },
    });
    await proxy.refuse();
    const again = await startPi("pi-a", a.config);
    await again.daemon.waitForLog(
      new RegExp(`fleet thresholds ${etag} \\(group set\\) in force from the database`),
    );
    expect(rules(again).map((entry) => [entry.origin, entry.key, entry.etag])).toEqual([
      ["fleet", "no2>=80ppb:warning", etag],
    ]);
    await cycles(4);
    // Under the config's 100 ppb rule the alarm would have cleared; under the kept set it stays raised.
    expect(status(again).alarms.map((alarm) => alarm.rule)).toEqual(["no2>=80ppb:warning"]);
    expect(events(again)).toEqual(["raise no2>=80ppb:warning"]);
    expect(status(again).fleet).toMatchObject({ applied: { etag }, lastFetchAt: null });
  });

  it("a set the fleet accepts but the Pi cannot run is refused whole, reported, logged once; the old rules keep alarming", {
    timeout: 30_000,
  }, async () => {
    const { pi: a, etag: group } = await alarmedUnderGroupSet('[http]\nlisten = "127.0.0.1:0"\n');
    const bad = await put("device=pi-a", [
      no2(60),
      { gas: "no2", value: 1, unit: "ppm", severity: "critical", sensor: "gas9" },
    ]);
    await a.daemon.waitForLog(new RegExp(`fleet thresholds ${bad} refused`), CYCLE_MS + SLACK_MS);
    const devices = await eventually(fleetStatus, (list) => list[0]?.state === "refused");
    expect(devices).toEqual([
      expect.objectContaining({
        device: "pi-a",
        state: "refused",
        reported_etag: bad,
        reason: expect.stringMatching(/^thresholds\[1\]\.sensor: no sensor "gas9" is configured/),
      }),
    ]);
    await cycles(4);
    expect(a.daemon.log.match(/fleet thresholds \S+ refused/g)).toHaveLength(1);
    expect(rules(a).map((entry) => [entry.origin, entry.key, entry.etag])).toEqual([
      ["fleet", "no2>=80ppb:warning", group],
    ]);
    // Nothing of the refused set applied: its 60 ppb rule never raised, the 80 ppb alarm stays.
    expect(events(a)).toEqual(["raise no2>=80ppb:warning"]);
    expect(status(a).fleet).toMatchObject({
      applied: { etag: group },
      refused: { etag: bad },
      refusedTotal: 1,
    });
    const [, port] = await a.daemon.waitForLog(/metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/);
    const metrics = (await send(Number(port), "GET", "/metrics")).body;
    expect(metrics).toMatch(/^sensord_fleet_thresholds_refused_total 1$/m);
    expect(metrics).toMatch(/^sensord_fleet_thresholds_state\{state="refused"\} 1$/m);
    expect(metrics).toMatch(/^sensord_fleet_thresholds_state\{state="applied"\} 0$/m);
  });

  it("an alarm raised under the old set clears once under the new one, with no second raise", {
    timeout: 30_000,
  }, async () => {
    const { pi: a } = await alarmedUnderGroupSet();
    const second = await put(`group=${GROUP}`, [no2(95)]);
    await applied(a, second);
    await eventually(
      () => events(a),
      (list) => list.length === 2,
    );
    await cycles(4);
    expect(events(a)).toEqual(["raise no2>=80ppb:warning", "clear no2>=80ppb:warning"]);
    expect(status(a).alarms).toEqual([]);
  });
});
