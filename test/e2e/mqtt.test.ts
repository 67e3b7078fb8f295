import { writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AlertEvent } from "../../schemas/alert.js";
import { parseId } from "../../schemas/ids.js";
import {
  Broker,
  retained,
  Subscriber,
  stopAllBrokers,
  stopAllSubscribers,
} from "../support/mosquitto.js";
import {
  DaemonProcess,
  jsonLines,
  killAllDaemons,
  makeTempDir,
  sensorctl,
  waitUntil,
} from "../support/processes.js";

/** no2 crosses 88 ppb and falls back below 80 every 4 ticks: a raise and a clear per cycle. */
const CYCLE = ['{"no2": 50}', '{"no2": 95}', '{"no2": 96}', '{"no2": 60}'];

function config(url: string, replay: string, interval: string, loop: boolean): string {
  return `
[device]
id = "pi-e2e"
group = "2"

[storage]
path = "state/sensord.db"
flush_interval = "50ms"

[[sensors]]
id = "gas0"
driver = "replay"
interval = "${interval}"
file = "${replay}"
loop = ${loop}

[sensors.channels.no2]
unit = "ppb"

[thresholds_preset]
preset = "none"

[[thresholds]]
gas = "no2"
value = 88
unit = "ppb"
clear = 80

[mqtt]
url = "${url}"
homeassistant = true
`;
}

interface Payload {
  id: string;
  warning?: string;
  cleared?: string;
}

/** The relay's saved delivery watermark (the highest alert seq the broker acknowledged). */
function deliveredCursor(dbPath: string): number {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare("SELECT MAX(delivered_seq) AS seq FROM mqtt_cursor").get() as {
      seq: number | null;
    };
    return row.seq ?? 0;
  } finally {
    db.close();
  }
}

function storedAlerts(configFile: string): AlertEvent[] {
  const result = sensorctl([
    "--config",
    configFile,
    "alerts",
    "--limit",
    "100000",
    "--format",
    "json",
  ]);
  return jsonLines<AlertEvent>(result.stdout);
}

describe("sensord relays alerts to a real mosquitto", () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = makeTempDir());
  });
  afterEach(async () => {
    await killAllDaemons();
    stopAllSubscribers();
    await stopAllBrokers();
    cleanup();
  });

  it("delivers every event in order across a broker outage and a kill -9, with the last will", {
    timeout: 60_000,
  }, async () => {
    // Persistence and a persistent subscriber: the broker's outage must not
    // cost the subscriber (the witness) what is published while it reconnects.
    const broker = await Broker.start({ dir, persistence: true });
    const sub = new Subscriber(broker, ["pi/1"], ["-c", "-i", "e2e-witness"]);
    const status = new Subscriber(broker, ["sensord/pi-e2e/status"]);
    await sub.subscribed("pi/1");
    const received = () => sub.messages().map(([, payload]) => JSON.parse(payload) as Payload);
    // A raise and a clear every 4 ticks (10 events/s), without end: the stream
    // is still flowing at the outage and at the kill.
    writeFileSync(join(dir, "endless.ndjson"), `${CYCLE.join("\n")}\n`);
    const configFile = join(dir, "sensord.toml");
    writeFileSync(configFile, config(broker.url, "endless.ndjson", "50ms", true));
    const first = new DaemonProcess(["--config", configFile]);

    // Before: events go out live.
    await waitUntil(() => received().length >= 6, 10_000, "6 events before the outage");
    // Broker outage: events keep being committed, and wait in the database.
    await broker.stop("SIGTERM");
    const atOutage = storedAlerts(configFile).length;
    await first.waitForLog(/\[mqtt\] (connection lost|cannot connect)/);
    await waitUntil(
      () => storedAlerts(configFile).length >= atOutage + 6,
      10_000,
      "6 events committed during the outage",
    );
    await broker.restart();
    const atReturn = storedAlerts(configFile).length;
    // After: the backlog and new events go out once sensord reconnects.
    await waitUntil(
      () => received().length >= atReturn + 4,
      20_000,
      "the backlog and new events after the outage",
    );
    // kill -9 mid-stream: right after a delivery, with more being published.
    const seen = received().length;
    await waitUntil(() => received().length > seen, 5000, "the next delivery");
    await first.stop("SIGKILL");
    const leftByFirst = storedAlerts(configFile);
    // What the killed run had saved as delivered: the next run resends what
    // lies above it, so those the witness already has come again.
    const savedCursor = deliveredCursor(join(dir, "state/sensord.db"));
    const receivedAtKill = new Set(received().map((message) => message.id));
    const resentAfterKill = leftByFirst.filter(
      (event) => (parseId(event.id)?.seq ?? 0) > savedCursor && receivedAtKill.has(event.id),
    ).length;
    const atKill = leftByFirst.length;
    // The next run goes on from the database (queued events first), then
    // adds 6 events of its own from a finite replay: 7 if the kill left the
    // alarm raised (the replay's first line clears it).
    const added = leftByFirst.at(-1)?.kind === "raise" ? 7 : 6;
    writeFileSync(join(dir, "short.ndjson"), `${Array(3).fill(CYCLE).flat().join("\n")}\n`);
    const secondConfig = join(dir, "second.toml");
    writeFileSync(secondConfig, config(broker.url, "short.ndjson", "50ms", false));
    const second = new DaemonProcess(["--config", secondConfig]);
    await second.waitForLog(/source exhausted/);
    await waitUntil(
      () => storedAlerts(secondConfig).length === atKill + added,
      5000,
      `${atKill + added} stored alerts`,
    );
    const stored = storedAlerts(secondConfig).map((event) => event.id);
    const position = new Map(stored.map((id, index) => [id, index]));
    // In order, so the last one arriving means the rest are in (or lost: checked below).
    const lastId = stored.at(-1);
    await waitUntil(
      () => received().some((message) => message.id === lastId),
      20_000,
      "the last stored event delivered",
    );
    const ids = received().map((message) => message.id);
    // Every event, in order: the first delivery of each is exactly the stored sequence.
    expect([...new Set(ids)]).toEqual(stored);
    // At least once: a reconnect or a crash may repeat the last few events,
    // always as a replay from an earlier point, never a jump ahead.
    const at = ids.map((id) => position.get(id) ?? -1);
    const jumps = at.filter((index, i) => i > 0 && index > (at[i - 1] ?? 0) + 1);
    expect(jumps).toEqual([]);
    // The outage can repeat at most the 10 in flight; the kill the 10 in
    // flight plus those acknowledged but not yet saved as delivered.
    expect(ids.length - stored.length).toBeLessThanOrEqual(10 + 10 + resentAfterKill);
    // and it did save: the events before the outage were acknowledged seconds before the kill.
    expect(savedCursor).toBeGreaterThanOrEqual(parseId(stored[0] ?? "")?.seq ?? Number.NaN);
    // Events from before the outage, from during it, and from after the kill all made it.
    expect(atOutage).toBeGreaterThanOrEqual(6);
    expect(atReturn - atOutage).toBeGreaterThanOrEqual(6);
    expect(stored.length - atKill).toBe(added);
    expect(received().slice(0, 2)).toMatchObject([{ warning: "no2 warning" }, { cleared: "no2" }]);
    await waitUntil(
      () => status.messages().some(([, payload]) => payload === "online"),
      5000,
      "online",
    );

    // Home Assistant discovery, retained.
    const discovery = retained(broker, "homeassistant/sensor/pi-e2e/gas0_no2/config");
    expect(JSON.parse(discovery ?? "null")).toMatchObject({
      unique_id: "sensord_pi-e2e_gas0_no2",
      state_topic: "sensord/pi-e2e/readings/gas0/no2",
      unit_of_measurement: "ppb",
      device_class: "nitrogen_dioxide",
      state_class: "measurement",
      availability_topic: "sensord/pi-e2e/status",
    });
    expect(retained(broker, "sensord/pi-e2e/alarm/gas0/no2")).toBe("OFF");

    // The last will: kill -9 leaves a retained "offline" once the broker notices (socket closed).
    await second.stop("SIGKILL");
    await waitUntil(
      () => retained(broker, "sensord/pi-e2e/status") === "offline",
      10_000,
      "offline",
    );
  });
});
