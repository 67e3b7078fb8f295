import { freshOutputStatus, type OutputStatus } from "../output/contract.js";
import type { OutputContext, StartedSection } from "../output/registry.js";
import { MqttRelay, type MqttStatus } from "./relay.js";

/** `[mqtt]`: the relay; alert events reach it through the store's commit hook, the database is its outbox. */
export function startMqtt({
  config,
  channels,
  storage,
  log,
}: OutputContext): StartedSection<"mqtt"> {
  if (config.mqtt === null) throw new Error("startMqtt needs an [mqtt] section");
  const relay = new MqttRelay({
    config: config.mqtt,
    device: config.device,
    channels,
    outbox: storage.mqttOutbox(),
    startSeq: storage.lastAlertSeq(),
    idPrefix: storage.idPrefix,
    log: log.child("mqtt"),
  });
  storage.onCommit((readings, alerts) => relay.onCommit(readings, alerts));
  relay.start();
  return {
    section: "mqtt",
    status: () => relay.status(),
    outputs: () => [relayOutputStatus(relay.status())],
    stop: () => relay.stop(),
  };
}

/**
 * The relay in the shape every output reports. The broker acknowledges
 * each event (PUBACK) rather than answering a request, so there are no
 * request counts, and reconnecting is the relay's backoff.
 */
export function relayOutputStatus(status: MqttStatus): OutputStatus {
  return {
    ...freshOutputStatus("mqtt"),
    state: status.state === "stopped" ? "stopped" : status.connected ? "idle" : "backoff",
    lastSuccessAt: status.lastDeliveredAt,
    lastError: status.lastError,
    lastErrorAt: status.lastErrorAt,
    deliveredTotal: status.deliveredTotal,
  };
}
