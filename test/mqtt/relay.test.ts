import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { channelsOf } from "../../daemon/drivers/channels.js";
import { openStore, type SqliteStore } from "../../daemon/store/store.js";
import type { MqttConfig, SensorConfig } from "../../schemas/config-types.js";
import { alertId } from "../../schemas/ids.js";
import type { NewAlert } from "../../schemas/records.js";
import { MqttRelay } from "../../sync/mqtt/relay.js";
import { alert, memoryLogger, reading, T0, tempDir } from "../store/helpers.js";
import {
  Broker,
  makePki,
  retained,
  Subscriber,
  stopAllBrokers,
  stopAllSubscribers,
} from "../support/mosquitto.js";
import { waitUntil } from "../support/processes.js";
import { DEVICE, mqttConfig } from "./fixtures.js";

/** A raise (odd n) or clear (even n) of no2 on reading n. */
function no2Event(n: number): NewAlert {
  return alert(n, n, {
    rule: "no2>=88ppb:warning",
    gas: "no2",
    kind: n % 2 === 1 ? "raise" : "clear",
    value: n % 2 === 1 ? 91.2 : 79,
    unit: "ppb",
    threshold: 88,
    tsMs: T0 + n,
  });
}

describe("MqttRelay against a real mosquitto", () => {
  let temp: ReturnType<typeof tempDir>;
  let store: SqliteStore;
  let relay: MqttRelay | null;
  const log = memoryLogger();

  beforeEach(() => {
    temp = tempDir();
    store = openStore({ path: temp.file(), maxBytes: 64 * 1024 ** 2, log });
    relay = null;
    log.lines.length = 0;
  });
  afterEach(async () => {
    await relay?.stop();
    stopAllSubscribers();
    await stopAllBrokers();
    store.close();
    temp.cleanup();
  });

  function startRelay(config: MqttConfig, sensors: SensorConfig[] = []): MqttRelay {
    const started = new MqttRelay({
      config,
      device: DEVICE,
      channels: channelsOf(sensors),
      outbox: store.mqttOutbox(),
      startSeq: store.lastAlertSeq(),
      idPrefix: store.idPrefix,
      log,
      random: () => 0,
    });
    store.onCommit((readings, alerts) => started.onCommit(readings, alerts));
    started.start();
    relay = started;
    return started;
  }

  function commit(from: number, to: number): void {
    const seqs = Array.from({ length: to - from + 1 }, (_, i) => from + i);
    store.commit(
      seqs.map((n) => reading(n, { gas: "no2", unit: "ppb", value: 91.2 })),
      seqs.map(no2Event),
    );
  }

  it("publishes raise and clear with the exact payloads, and says online (retained)", async () => {
    const broker = await Broker.start({ dir: temp.dir });
    const sub = new Subscriber(broker, ["pi/1"]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = startRelay(mqttConfig(broker.url));
    await waitUntil(() => started.status().connected, 5000, "connected");
    commit(1, 2);
    await waitUntil(() => sub.messages().length === 2, 5000, "two messages");
    const [raise, clear] = sub.messages().map(([topic, payload]) => {
      expect(topic).toBe("pi/1");
      return payload;
    });
    expect(raise).toBe(
      JSON.stringify({
        warning: "no2 warning",
        id: alertId(store.idPrefix, 1),
        device: "pi-lab-3",
        group: "2",
        sensor: "gas0",
        gas: "no2",
        value: 91.2,
        unit: "ppb",
        threshold: 88,
        severity: "warning",
        ts: new Date(T0 + 1).toISOString(),
      }),
    );
    expect(JSON.parse(clear ?? "")).toEqual({
      cleared: "no2",
      id: alertId(store.idPrefix, 2),
      device: "pi-lab-3",
      group: "2",
      sensor: "gas0",
      gas: "no2",
      value: 79,
      unit: "ppb",
      threshold: 88,
      severity: "warning",
      ts: new Date(T0 + 2).toISOString(),
    });
    expect(retained(broker, "sensord/pi-lab-3/status")).toBe("online");
    await waitUntil(() => started.status().queued === 0, 5000, "watermark");
    expect(started.status()).toMatchObject({ deliveredTotal: 2, queued: 0, inFlight: 0 });
    await started.stop();
    relay = null;
    expect(retained(broker, "sensord/pi-lab-3/status")).toBe("offline");
  });

  it("queues while the broker is down and delivers everything in order when it returns", async () => {
    const broker = await Broker.start({ dir: temp.dir });
    const started = startRelay(mqttConfig(broker.url));
    await waitUntil(() => started.status().connected, 5000, "connected");
    await broker.stop();
    await waitUntil(() => !started.status().connected, 5000, "disconnected");
    commit(1, 40);
    expect(started.status().queued).toBe(40);
    expect(log.lines.map((line) => line.message)).toContainEqual(
      expect.stringMatching(/^connection lost: .*; alert events wait in the database/),
    );
    await broker.restart();
    const sub = new Subscriber(broker, ["pi/1"]);
    // The subscriber must be listening before the relay's next attempt (>= 0.5 s away).
    await waitUntil(() => started.status().connected, 15_000, "reconnected");
    await waitUntil(() => started.status().queued === 0, 10_000, "drained");
    await waitUntil(() => sub.messages().length >= 40, 5000, "40 messages");
    const ids = sub.messages().map(([, payload]) => (JSON.parse(payload) as { id: string }).id);
    expect(ids).toEqual(Array.from({ length: 40 }, (_, i) => alertId(store.idPrefix, i + 1)));
  });

  it("resumes from the saved watermark: a new relay sends only what was not acknowledged", async () => {
    const broker = await Broker.start({ dir: temp.dir });
    const first = startRelay(mqttConfig(broker.url));
    await waitUntil(() => first.status().connected, 5000, "connected");
    commit(1, 3);
    await waitUntil(() => first.status().queued === 0, 5000, "first three delivered");
    await first.stop();
    commit(4, 5);
    const sub = new Subscriber(broker, ["pi/1"]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    startRelay(mqttConfig(broker.url));
    await waitUntil(() => sub.messages().length === 2, 5000, "two messages");
    const ids = sub.messages().map(([, payload]) => (JSON.parse(payload) as { id: string }).id);
    expect(ids).toEqual([alertId(store.idPrefix, 4), alertId(store.idPrefix, 5)]);
  });

  it("mutual TLS: connects with the client certificate; wrong CA and no certificate are named and events wait", async () => {
    const pki = makePki(temp.dir);
    const broker = await Broker.start({
      dir: temp.dir,
      tls: {
        caFile: pki.caFile,
        certFile: pki.serverCert,
        keyFile: pki.serverKey,
        requireCertificate: true,
      },
    });
    const good = mqttConfig(broker.url, {
      caFile: pki.caFile,
      certFile: pki.clientCert,
      keyFile: pki.clientKey,
    });

    const wrongCa = startRelay({ ...good, caFile: pki.otherCaFile });
    commit(1, 1);
    await waitUntil(() => wrongCa.status().lastError !== null, 5000, "wrong CA error");
    expect(wrongCa.status().lastError).toContain(`the CA in mqtt.ca_file (${pki.otherCaFile})`);
    expect(wrongCa.status()).toMatchObject({ connected: false, queued: 1 });
    await wrongCa.stop();

    const noCert = startRelay({ ...good, certFile: null, keyFile: null });
    await waitUntil(() => noCert.status().lastError !== null, 5000, "missing cert error");
    expect(noCert.status().lastError).toContain(
      "requires a client certificate; set mqtt.cert_file",
    );
    expect(noCert.status()).toMatchObject({ connected: false, queued: 1 });
    await noCert.stop();

    const missingKey = startRelay({ ...good, keyFile: `${pki.clientKey}.missing` });
    await waitUntil(() => missingKey.status().lastError !== null, 5000, "missing key error");
    expect(missingKey.status().lastError).toBe(
      `mqtt.key_file: ${pki.clientKey}.missing does not exist; put the device's private key (PEM) there or fix the path`,
    );
    await missingKey.stop();

    const sub = new Subscriber(
      broker,
      ["pi/1"],
      ["--cafile", pki.caFile, "--cert", pki.clientCert, "--key", pki.clientKey],
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const ok = startRelay(good);
    await waitUntil(() => sub.messages().length === 1, 5000, "the waiting event");
    expect(JSON.parse(sub.messages()[0]?.[1] ?? "")).toMatchObject({
      warning: "no2 warning",
      id: alertId(store.idPrefix, 1),
    });
    expect(ok.status()).toMatchObject({ connected: true, lastError: null });
  });

  it("Home Assistant: retained discovery configs appear when enabled and are removed when disabled", async () => {
    const broker = await Broker.start({ dir: temp.dir });
    const sensors: SensorConfig[] = [
      {
        id: "gas0",
        driver: "sim",
        intervalMs: 1000,
        warmupMs: 0,
        channels: { no2: { unit: "ppb", calibration: null, sensorId: null, sensorType: null } },
        options: {},
      },
    ];
    const topic = "homeassistant/sensor/pi-lab-3/gas0_no2/config";
    const alarmTopic = "homeassistant/binary_sensor/pi-lab-3/gas0_no2_alarm/config";
    const enabled = startRelay(mqttConfig(broker.url, { homeassistant: true }), sensors);
    await waitUntil(() => retained(broker, topic) !== null, 5000, "the retained discovery config");
    expect(JSON.parse(retained(broker, topic) ?? "{}")).toMatchObject({
      device_class: "nitrogen_dioxide",
      state_class: "measurement",
      unit_of_measurement: "ppb",
    });
    // Both configs are there before disabling: their removal below means something.
    expect(JSON.parse(retained(broker, alarmTopic) ?? "{}")).toMatchObject({
      unique_id: "sensord_pi-lab-3_gas0_no2_alarm",
      state_topic: "sensord/pi-lab-3/alarm/gas0/no2",
      payload_on: "ON",
      payload_off: "OFF",
    });
    await enabled.stop();
    startRelay(mqttConfig(broker.url, { homeassistant: false }), sensors);
    await waitUntil(() => retained(broker, topic) === null, 8000, "the config removed");
    // retained() throws on any mosquitto_sub error, so null is "no retained message".
    expect(retained(broker, alarmTopic)).toBeNull();
  });
});
