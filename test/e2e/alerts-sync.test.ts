import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AlertEvent } from "../../schemas/alert.js";
import { IngestProcess, killAllIngest } from "../cloud/ingest-process.js";
import { type FaultProxy, startFaultProxy } from "../support/http/fault-proxy.js";
import {
  DaemonProcess,
  jsonLines,
  killAllDaemons,
  makeTempDir,
  sensorctl,
  sensordSync,
  waitUntil,
} from "../support/processes.js";

/** co crosses 35 ppm up and clears under 30 three times: raise, clear, raise, clear, raise. */
const REPLAY = [10, 40, 10, 40, 10, 40].map((co) => JSON.stringify({ co })).join("\n");

function writeConfig(dir: string, replay: string, sync: string): string {
  const file = join(dir, "sensord.toml");
  writeFileSync(
    file,
    `[device]
id = "pi-e2e"
group = "2"

[storage]
path = "sensord.db"
flush_interval = "20ms"

[[sensors]]
id = "gas0"
driver = "replay"
interval = "10ms"
file = "${replay}"

[[thresholds]]
gas = "co"
value = 35
clear = 30

[control]
socket = "sensord.sock"

${sync}
`,
  );
  return file;
}

async function ingestedAlerts(url: string): Promise<Array<AlertEvent & { device: string }>> {
  const response = await fetch(`${url}/alerts?limit=10000`);
  return ((await response.json()) as { alerts: Array<AlertEvent & { device: string }> }).alerts;
}

function storedAlertIds(config: string): string[] {
  const result = sensorctl(["--config", config, "alerts", "--format", "json", "--limit", "1000"]);
  expect(result.code).toBe(0);
  return jsonLines<AlertEvent>(result.stdout).map((alert) => alert.id);
}

describe("alert events end to end: sensord -> sensord-ingest POST /ingest/alerts", () => {
  let dir: string;
  let cleanup: () => void;
  let proxy: FaultProxy | null = null;
  beforeEach(() => {
    ({ dir, cleanup } = makeTempDir("sensord-alerts-"));
    writeFileSync(join(dir, "replay.ndjson"), `${REPLAY}\n`);
    writeFileSync(join(dir, "empty.ndjson"), "");
  });
  afterEach(async () => {
    await killAllDaemons();
    await killAllIngest();
    await proxy?.close();
    proxy = null;
    cleanup();
  });

  it("a kill -9 after the ingest stored a batch but before sensord marked it: re-sent on restart, stored once", {
    timeout: 60_000,
  }, async () => {
    // Alerts recorded while there was no [sync]: all of them are pending once it is added.
    const offline = writeConfig(dir, "replay.ndjson", "");
    const first = new DaemonProcess(["--config", offline]);
    await first.waitForLog(/source exhausted/);
    await waitUntil(() => storedAlertIds(offline).length === 5, 10_000, "the 5 alert events");
    expect(await first.stop()).toEqual({ code: 0, signal: null });
    const ids = storedAlertIds(offline);

    const ingest = new IngestProcess(["--listen", "127.0.0.1:0", "--db", join(dir, "ingest.db")]);
    const url = await ingest.ready();
    proxy = await startFaultProxy(`${url}/ingest`);
    // The ingest gets (and stores) every request; sensord never hears back.
    proxy.set({ kind: "hang", forward: true });
    const sync = `[sync]\nendpoint = "${proxy.url}"\ninterval = "200ms"\ntimeout = "5s"\n`;
    const config = writeConfig(dir, "empty.ndjson", sync);
    const crashing = new DaemonProcess(["--config", config]);
    const deadline = Date.now() + 10_000;
    while ((await ingestedAlerts(url)).length < 5) {
      if (Date.now() > deadline)
        throw new Error("timed out waiting for the ingest to store the alerts");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    crashing.signal("SIGKILL");
    expect((await crashing.exited).signal).toBe("SIGKILL");
    const sent = proxy.requests.filter((request) => request.path === "/ingest/alerts");
    expect(sent).toHaveLength(1);

    proxy.set({ kind: "pass" });
    const restarted = new DaemonProcess(["--config", config]);
    await restarted.waitForLog(/alert events go to http:\/\/127\.0\.0\.1:\d+\/ingest\/alerts/);
    await waitUntil(
      () => /alerts: 0 pending, 5 uploaded/.test(sensorctl(["--config", config, "status"]).stdout),
      10_000,
      "sensorctl status to show the alerts uploaded",
    );
    const resent = proxy.requests.filter((request) => request.path === "/ingest/alerts");
    expect(resent).toHaveLength(2);
    // Same content, same idempotency key: the repeat is the same batch.
    expect(resent[1]?.headers["idempotency-key"]).toBe(sent[0]?.headers["idempotency-key"]);

    const stored = await ingestedAlerts(url);
    expect(stored.map((alert) => alert.id).sort()).toEqual([...ids].sort());
    expect(new Set(stored.map((alert) => alert.device))).toEqual(new Set(["pi-e2e"]));
    expect(stored.filter((alert) => alert.kind === "raise")).toHaveLength(3);

    // Nothing is re-sent by later cycles, and the offline status agrees.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(proxy.requests.filter((request) => request.path === "/ingest/alerts")).toHaveLength(2);
    expect(await restarted.stop()).toEqual({ code: 0, signal: null });
    expect(sensorctl(["--config", config, "status"]).stdout).toMatch(/ {2}alerts: 0 pending \(/);
  });

  it("a bad alerts_endpoint is a config error: exit 78 naming the key", () => {
    const config = writeConfig(
      dir,
      "empty.ndjson",
      '[sync]\nendpoint = "http://127.0.0.1:9/ingest"\nalerts_endpoint = "127.0.0.1:9/alerts"\n',
    );
    const result = sensordSync(["--config", config]);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain(config);
    expect(result.stderr).toContain("sync.alerts_endpoint");
    expect(result.stderr).toContain('"127.0.0.1:9/alerts" is not an http:// or https:// URL');
  });
});
