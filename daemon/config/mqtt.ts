import { accessSync, constants } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { describeError } from "../../core/errors.js";
import type { MqttConfig } from "../../schemas/config-types.js";
import { PRINTABLE } from "../../schemas/names.js";
import { decodeSection } from "./decode.js";
import { asTable, type Problems } from "./problems.js";

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
  const mqtt = decodeSection("mqtt", table, problems);
  const url = mqtt.url ?? "";
  if (mqtt.url !== undefined && !isMqttUrl(url)) {
    problems.add(
      "mqtt.url",
      `"${url}" is not an mqtt://, mqtts://, ws:// or wss:// URL, e.g. "mqtts://broker.example:8883"`,
    );
  }
  checkDeviceId(deviceId, problems);
  if (mqtt.client_id !== undefined) checkClientId(mqtt.client_id, problems);
  checkTopic(mqtt.topic, "mqtt.topic", problems);
  checkTopic(mqtt.status_topic, "mqtt.status_topic", problems);
  const path = (text: string | undefined): string | null => {
    if (text === undefined || text === "") return null;
    return isAbsolute(text) ? text : resolve(baseDir, text);
  };
  const certFile = path(mqtt.cert_file);
  const keyFile = path(mqtt.key_file);
  if (certFile !== null && keyFile === null) {
    problems.add("mqtt.key_file", "missing; cert_file needs the private key it was issued for");
  }
  if (keyFile !== null && certFile === null) {
    problems.add("mqtt.cert_file", "missing; key_file needs the client certificate it belongs to");
  }
  const username = nonEmpty(mqtt.username);
  const passwordFile = path(mqtt.password_file);
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
    clientId: mqtt.client_id ?? deviceId,
    topic: mqtt.topic,
    statusTopic: mqtt.status_topic.replaceAll("{device}", deviceId),
    qos: mqtt.qos,
    caFile: path(mqtt.ca_file),
    certFile,
    keyFile,
    username,
    passwordFile,
    alpn: nonEmpty(mqtt.alpn),
    publishReadings: mqtt.publish_readings,
    homeassistant: mqtt.homeassistant,
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

function nonEmpty(text: string | undefined): string | null {
  return text === undefined || text === "" ? null : text;
}

/** No C0 controls (NUL included) and no DEL: a broker drops a client whose topic or id holds one. */
const PRINTABLE_TEXT = new RegExp(PRINTABLE);

/**
 * The device id becomes a topic level (sensord/<device>/status, .../readings/...,
 * .../alarm/..., Home Assistant's state topics). A "/" splits it into several
 * levels, and publishing to a topic with "+" or "#" is a protocol error the
 * broker answers by closing the connection: refused here, when [mqtt] is
 * configured, rather than reconnecting forever. A control character was
 * already reported by the schema check (device.id keeps its first problem).
 */
function checkDeviceId(deviceId: string, problems: Problems): void {
  const found = [...new Set(deviceId.match(/[/+#]/g) ?? [])];
  if (found.length === 0) return;
  problems.add(
    "device.id",
    `${JSON.stringify(deviceId)} cannot be used with [mqtt]: it contains ${found.map((char) => `"${char}"`).join(", ")}, ` +
      'and "/", "+" and "#" are topic separators and wildcards in MQTT, where the id becomes one level of ' +
      "sensord/<device>/status and the other topics sensord publishes; " +
      'use letters, digits, "-", "_" and "." (e.g. "lab-3")',
  );
}

/**
 * mosquitto (deny_special_chars, on by default) denies every publish of a
 * client whose id holds "+" or "#": the link would look up while no alert is
 * delivered.
 */
function checkClientId(clientId: string, problems: Problems): void {
  if (!PRINTABLE_TEXT.test(clientId)) {
    problems.add(
      "mqtt.client_id",
      `${JSON.stringify(clientId)} holds a control character (tab, newline, NUL...); use printable characters only`,
    );
  } else if (/[+#]/.test(clientId)) {
    problems.add(
      "mqtt.client_id",
      `${JSON.stringify(clientId)} contains "+" or "#", MQTT's wildcards: brokers such as mosquitto then deny ` +
        'every message of the client; use letters, digits, "-", "_" and "." (e.g. "pi-lab-3")',
    );
  }
}

/** Publishing to a wildcard topic is a protocol error the broker answers by disconnecting. */
function checkTopic(topic: string, key: string, problems: Problems): void {
  if (!PRINTABLE_TEXT.test(topic)) {
    problems.add(
      key,
      `${JSON.stringify(topic)} holds a control character (tab, newline, NUL...); use printable characters only, e.g. "pi/1"`,
    );
  } else if (/[+#]/.test(topic)) {
    problems.add(key, `"${topic}" contains + or #; name one topic without wildcards, e.g. "pi/1"`);
  }
}
