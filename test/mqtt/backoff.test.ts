import mqtt from "mqtt";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore, type SqliteStore } from "../../daemon/store/store.js";
import type { MqttConfig } from "../../schemas/config-types.js";
import { MqttRelay, type MqttRelayDeps } from "../../sync/mqtt/relay.js";
import { alert, memoryLogger, reading, tempDir } from "../store/helpers.js";
import { Broker, stopAllBrokers } from "../support/mosquitto.js";
import { waitUntil } from "../support/processes.js";
import { DEVICE, mqttConfig } from "./fixtures.js";

/** Clients mosquitto accepted (CONNACK sent) so far: its own log, not our code's. */
function accepted(broker: Broker): number {
  return broker.log.split("\n").filter((line) => /New client connected .* as pi-lab-3/.test(line))
    .length;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("MqttRelay against a broker that closes the connection right after CONNACK", () => {
  let temp: ReturnType<typeof tempDir>;
  let store: SqliteStore;
  let relay: MqttRelay | null;
  let rival: mqtt.MqttClient | null;
  const log = memoryLogger();

  beforeEach(() => {
    temp = tempDir();
    store = openStore({ path: temp.file(), maxBytes: 64 * 1024 ** 2, log });
    relay = null;
    rival = null;
    log.lines.length = 0;
  });
  afterEach(async () => {
    rival?.end(true);
    await relay?.stop();
    await stopAllBrokers();
    store.close();
    temp.cleanup();
  });

  function startRelay(config: MqttConfig, extra: Partial<MqttRelayDeps> = {}): MqttRelay {
    const started = new MqttRelay({
      config,
      device: DEVICE,
      channels: [],
      outbox: store.mqttOutbox(),
      startSeq: store.lastAlertSeq(),
      idPrefix: store.idPrefix,
      log,
      ...extra,
    });
    store.onCommit((readings, alerts) => started.onCommit(readings, alerts));
    started.start();
    relay = started;
    return started;
  }

  it("backs off exponentially (not every ~0.7 s) and logs the state changes, not every cycle", async () => {
    const broker = await Broker.start({ dir: temp.dir });
    // Publishing to a wildcard topic is a protocol error: mosquitto accepts the
    // connection, then closes it as soon as the queued event goes out. (The
    // config loader refuses such topics; AWS IoT does the same to a topic its
    // policy denies.)
    const started = startRelay(mqttConfig(broker.url, { topic: "pi/#" }), { random: () => 1 });
    store.commit([reading(1)], [alert(1, 1)]);
    await sleep(9000);
    // random = 1: waits of 1, 2, 4, 8 s after the drops at ~0, ~1, ~3, ~7 s.
    expect(accepted(broker)).toBeGreaterThanOrEqual(3);
    expect(accepted(broker)).toBeLessThanOrEqual(4);
    const messages = log.lines.map((line) => line.message);
    // Up, down, and "keeps dropping us": three states, three lines, however many attempts.
    expect(messages).toEqual([
      expect.stringMatching(/^connected to broker 127\.0\.0\.1:\d+; 1 queued alert event/),
      expect.stringMatching(
        /^connection lost: broker 127\.0\.0\.1:\d+ closed the connection; .*, retrying$/,
      ),
      expect.stringMatching(
        /^connection lost: broker 127\.0\.0\.1:\d+ keeps closing the connection right after accepting it: .*retrying with backoff \(up to 60 s\)$/,
      ),
    ]);
    expect(started.status().lastError).toContain(
      `broker 127.0.0.1:${broker.port} keeps closing the connection right after accepting it`,
    );
    expect(started.status()).toMatchObject({ connected: false, queued: 1 });
  }, 20_000);

  it("a client with the same id taking the session over: backs off, then one line once it holds", async () => {
    const broker = await Broker.start({ dir: temp.dir });
    // Another device configured with this client id: each connection kicks the other off.
    rival = mqtt.connect(broker.url, { clientId: "pi-lab-3", reconnectPeriod: 100, clean: true });
    await waitUntil(() => rival?.connected === true, 5000, "rival connected");
    const started = startRelay(mqttConfig(broker.url), { random: () => 0, stableAfterMs: 1000 });
    // random = 0: waits of 0.5, 1, 2, 4 s.
    await sleep(4000);
    expect(log.lines.filter((line) => line.message.includes("keeps closing"))).toHaveLength(1);
    expect(log.lines.find((line) => line.message.includes("keeps closing"))?.message).toContain(
      "another client connects with the same client id (pi-lab-3)",
    );
    rival.end(true);
    rival = null;
    await waitUntil(() => started.status().connected, 10_000, "connected for good");
    await waitUntil(
      () => log.lines.some((line) => line.message.includes("stable again")),
      5000,
      "stable line",
    );
    const after = log.lines.slice(log.lines.findIndex((line) => line.message.includes("keeps")));
    // The flapping line, then the one saying it holds: no connected/lost pair per attempt.
    expect(after.map((line) => line.message)).toEqual([
      expect.stringContaining("keeps closing"),
      expect.stringMatching(/^connected to broker 127\.0\.0\.1:\d+ .*stable again/),
    ]);
  }, 25_000);
});
