import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AlertEvent } from "../../schemas/alert.js";
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

function config(url: string, replay: string, interval: string): string {
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

  it("delivers every event in order across a broker outage and a kill -9, with the last will", async () => {
    const broker = await Broker.start({ dir });
    writeFileSync(join(dir, "replay.ndjson"), `${Array(10).fill(CYCLE).flat().join("\n")}\n`);
    const configFile = join(dir, "sensord.toml");
    writeFileSync(configFile, config(broker.url, "replay.ndjson", "20ms"));

    // Broker down while thresholds trip: 20 events wait in the database.
    await broker.stop();
    const first = new DaemonProcess(["--config", configFile]);
    await first.waitForLog(/source exhausted/);
    await waitUntil(() => storedAlerts(configFile).length === 20, 5000, "20 stored alerts");
    await first.waitForLog(
      /\[mqtt\] cannot connect: broker 127\.0\.0\.1:\d+ refused the connection/,
    );
    // kill -9 with everything still queued.
    await first.stop("SIGKILL");

    await broker.restart();
    const sub2 = new Subscriber(broker, ["pi/1"]);
    const status = new Subscriber(broker, ["sensord/pi-e2e/status"]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const second = new DaemonProcess(["--config", configFile]);
    await second.waitForLog(/connected to broker 127\.0\.0\.1:\d+; 20 queued alert event\(s\)/);
    // The replay starts over, so this run adds 20 more events behind the queued ones.
    await second.waitForLog(/source exhausted/);
    await waitUntil(() => storedAlerts(configFile).length === 40, 5000, "40 stored alerts");
    await waitUntil(() => sub2.messages().length >= 40, 10_000, "40 messages");
    const stored = storedAlerts(configFile);
    const received = sub2.messages().map(([, payload]) => JSON.parse(payload) as Payload);
    expect(received.map((message) => message.id)).toEqual(stored.map((event) => event.id));
    expect(received.slice(0, 2)).toMatchObject([{ warning: "no2 warning" }, { cleared: "no2" }]);
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
