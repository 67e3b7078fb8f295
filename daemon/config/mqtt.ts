import { accessSync, constants } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { describeError } from "../errors.js";
import { asString, asTable, type Problems } from "./problems.js";
import type { MqttConfig } from "./types.js";

export const MQTT_DEFAULTS = {
  /** The original system's topic, so its subscribers keep working. */
  topic: "pi/1",
  statusTopic: "sensord/{device}/status",
  qos: 1,
} as const;

const PROTOCOLS = new Set(["mqtt:", "mqtts:", "ws:", "wss:"]);

/**
 * `[mqtt]` -> MqttConfig, or null when the section is absent. TLS files are
 * not read here: the relay reads them at every connection attempt, so a
 * missing or broken certificate costs the MQTT link only (reported with the
 * file and the fix) while sampling and local alarms go on.
 */
export function resolveMqtt(
  raw: unknown,
  baseDir: string,
  deviceId: string,
  problems: Problems,
): MqttConfig | null {
  const table = asTable(raw);
  if (table === undefined) return null;
  const url = asString(table.url) ?? "";
  if (table.url === undefined) {
    problems.add(
      "mqtt.url",
      'missing; add url = "mqtts://broker.example:8883" (mqtt://, mqtts://, ws:// or wss://)',
    );
  } else if (!isMqttUrl(url)) {
    problems.add(
      "mqtt.url",
      `"${url}" is not an mqtt://, mqtts://, ws:// or wss:// URL, e.g. "mqtts://broker.example:8883"`,
    );
  }
  const topic = topicOf(table.topic, "mqtt.topic", MQTT_DEFAULTS.topic, problems);
  const statusTopic = topicOf(
    table.status_topic,
    "mqtt.status_topic",
    MQTT_DEFAULTS.statusTopic,
    problems,
  ).replaceAll("{device}", deviceId);
  const path = (value: unknown): string | null => {
    const text = asString(value);
    if (text === undefined || text === "") return null;
    return isAbsolute(text) ? text : resolve(baseDir, text);
  };
  const certFile = path(table.cert_file);
  const keyFile = path(table.key_file);
  if (certFile !== null && keyFile === null) {
    problems.add("mqtt.key_file", "missing; cert_file needs the private key it was issued for");
  }
  if (keyFile !== null && certFile === null) {
    problems.add("mqtt.cert_file", "missing; key_file needs the client certificate it belongs to");
  }
  const username = nonEmpty(table.username);
  const passwordFile = path(table.password_file);
  if (passwordFile !== null) {
    if (username === null) {
      problems.add("mqtt.username", "missing; password_file needs a username to go with it");
    }
    // Checked here so `sensorctl config check` reports it; the relay reads the password itself.
    try {
      accessSync(passwordFile, constants.R_OK);
    } catch (error) {
      problems.add(
        "mqtt.password_file",
        `cannot read ${passwordFile} (${describeError(error)}); create it with the password on its ` +
          "first line, readable only by the service user (chmod 600)",
      );
    }
  }
  return {
    url,
    clientId: nonEmpty(table.client_id) ?? deviceId,
    topic,
    statusTopic,
    qos: table.qos === 0 ? 0 : MQTT_DEFAULTS.qos,
    caFile: path(table.ca_file),
    certFile,
    keyFile,
    username,
    passwordFile,
    alpn: nonEmpty(table.alpn),
    publishReadings: table.publish_readings === true,
    homeassistant: table.homeassistant === true,
  };
}

function isMqttUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return PROTOCOLS.has(url.protocol) && url.hostname !== "";
  } catch {
    return false;
  }
}

function nonEmpty(value: unknown): string | null {
  const text = asString(value);
  return text === undefined || text === "" ? null : text;
}

/** Publishing to a wildcard topic is a protocol error the broker answers by disconnecting. */
function topicOf(raw: unknown, key: string, fallback: string, problems: Problems): string {
  const topic = asString(raw) ?? fallback;
  if (/[+#]/.test(topic)) {
    problems.add(key, `"${topic}" contains + or #; name one topic without wildcards, e.g. "pi/1"`);
    return fallback;
  }
  return topic;
}
