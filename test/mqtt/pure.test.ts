import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Value } from "@sinclair/typebox/value";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  BROKER_REJECTED_BACKOFF,
  BROKER_UNREACHABLE_BACKOFF,
  backoffDelay,
} from "../../core/backoff.js";
import { RatePacer } from "../../core/rate-pacer.js";
import { channelsOf } from "../../daemon/drivers/channels.js";
import type { MqttConfig } from "../../schemas/config-types.js";
import { MqttAlertPayload } from "../../schemas/mqtt.js";
import { alertPayload } from "../../schemas/mqtt-alert.js";
import { explainConnectError } from "../../sync/mqtt/errors.js";
import { discoveryMessages } from "../../sync/mqtt/homeassistant.js";
import { readTlsMaterial } from "../../sync/mqtt/tls.js";
import { DeliveryWindow } from "../../sync/mqtt/window.js";
import { makePki } from "../support/mosquitto.js";
import { makeTempDir } from "../support/processes.js";

const CONFIG: MqttConfig = {
  url: "mqtts://broker.example:8883",
  clientId: "pi-lab-3",
  topic: "pi/1",
  statusTopic: "sensord/pi-lab-3/status",
  qos: 1,
  caFile: "/etc/sensord/ca.pem",
  certFile: null,
  keyFile: null,
  username: null,
  passwordFile: null,
  alpn: null,
  publishReadings: false,
  homeassistant: false,
};

describe("DeliveryWindow", () => {
  it("advances the watermark only over a contiguous acknowledged prefix", () => {
    const window = new DeliveryWindow();
    for (const seq of [3, 4, 7, 9]) window.add(seq);
    expect(window.ack(4)).toBeNull();
    expect(window.ack(7)).toBeNull();
    expect(window.ack(3)).toBe(7);
    expect(window.size).toBe(1);
    expect(window.ack(42)).toBeNull();
    expect(window.ack(9)).toBe(9);
    expect(window.size).toBe(0);
    expect(() => {
      window.add(5);
      window.add(5);
    }).toThrow("seq 5 is not above 5");
  });
});

describe("reconnect backoff and publish pacing", () => {
  it("doubles from 1 s with jitter, capped at 10 s (unreachable) or 60 s (rejected)", () => {
    expect(
      [1, 2, 3, 4, 5, 9].map((n) => backoffDelay(BROKER_UNREACHABLE_BACKOFF, n, () => 0)),
    ).toEqual([500, 1000, 2000, 4000, 5000, 5000]);
    expect(backoffDelay(BROKER_UNREACHABLE_BACKOFF, 9, () => 1)).toBe(10_000);
    expect(backoffDelay(BROKER_REJECTED_BACKOFF, 20, () => 1)).toBe(60_000);
  });

  it("allows 100 publishes per second and says how long to wait for the 101st", () => {
    const pacer = new RatePacer(100, 1000);
    for (let i = 0; i < 100; i++) {
      expect(pacer.waitMs(5000 + i)).toBe(0);
      pacer.record(5000 + i);
    }
    expect(pacer.waitMs(5200)).toBe(800);
    expect(pacer.waitMs(6000)).toBe(0);
  });
});

describe("alertPayload", () => {
  const event = {
    id: "abcdefghij-a1",
    readingId: "abcdefghij-r1",
    rule: "co>=200ppm:critical",
    sensor: "gas0",
    gas: "co" as const,
    kind: "raise" as const,
    value: 210,
    unit: "ppm" as const,
    threshold: 200,
    op: ">=" as const,
    severity: "critical" as const,
    ts: "2026-11-26T10:40:36.123Z",
  };
  it("keeps the original warning text for every raise and matches the exported schema", () => {
    const raise = alertPayload(event, { id: "pi-lab-3", group: "2" });
    expect(raise).toEqual({
      warning: "co warning",
      id: "abcdefghij-a1",
      device: "pi-lab-3",
      group: "2",
      sensor: "gas0",
      gas: "co",
      value: 210,
      unit: "ppm",
      threshold: 200,
      severity: "critical",
      ts: "2026-11-26T10:40:36.123Z",
    });
    const clear = alertPayload({ ...event, kind: "clear" }, { id: "pi-lab-3", group: "2" });
    expect("warning" in clear).toBe(false);
    expect(clear).toMatchObject({ cleared: "co", id: "abcdefghij-a1" });
    expect(Value.Check(MqttAlertPayload, raise)).toBe(true);
    expect(Value.Check(MqttAlertPayload, clear)).toBe(true);
    expect(Value.Check(MqttAlertPayload, { ...raise, cleared: "co" })).toBe(false);
  });
});

describe("explainConnectError", () => {
  const withCode = (code: string | number, message = "boom") =>
    Object.assign(new Error(message), { code });
  it("names the file or key to fix", () => {
    expect(explainConnectError(withCode("SELF_SIGNED_CERT_IN_CHAIN"), CONFIG)).toEqual({
      message:
        "the certificate of broker broker.example:8883 is not signed by the CA in mqtt.ca_file (/etc/sensord/ca.pem); " +
        "set ca_file to the CA that issued the broker's certificate (SELF_SIGNED_CERT_IN_CHAIN)",
      rejected: true,
    });
    expect(
      explainConnectError(withCode("ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED"), CONFIG).message,
    ).toBe(
      "broker broker.example:8883 requires a client certificate; set mqtt.cert_file and mqtt.key_file " +
        "(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED)",
    );
    expect(
      explainConnectError(withCode("ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED"), {
        ...CONFIG,
        certFile: "/etc/sensord/device.pem.crt",
      }).message,
    ).toContain("client certificate in mqtt.cert_file (/etc/sensord/device.pem.crt) has expired");
    expect(
      explainConnectError(withCode(5, "Connection refused: Not authorized"), CONFIG),
    ).toMatchObject({
      rejected: true,
    });
    expect(explainConnectError(withCode("ECONNREFUSED"), CONFIG)).toEqual({
      message: "broker broker.example:8883 refused the connection (is the broker running?)",
      rejected: false,
    });
  });
});

describe("readTlsMaterial", () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = makeTempDir());
  });
  afterEach(() => cleanup());

  it("reads the files, and names the file for an expired certificate, a foreign key and loose permissions", () => {
    const pki = makePki(dir);
    const config = {
      ...CONFIG,
      caFile: pki.caFile,
      certFile: pki.clientCert,
      keyFile: pki.clientKey,
    };
    const material = readTlsMaterial(config);
    expect(material.warnings).toEqual([]);
    expect(material.cert?.toString()).toContain("BEGIN CERTIFICATE");

    const in3Days = Date.now() + 3 * 86_400_000;
    expect(() => readTlsMaterial(config, in3Days)).toThrow(
      new RegExp(
        `^mqtt.ca_file: the certificate in ${pki.caFile} expired on .*; install a renewed one$`,
      ),
    );
    expect(() => readTlsMaterial({ ...config, keyFile: pki.serverKey })).toThrow(
      `mqtt.key_file: ${pki.serverKey} is not the private key of ${pki.clientCert}`,
    );
    writeFileSync(join(dir, "junk.key"), "not a key\n");
    expect(() => readTlsMaterial({ ...config, keyFile: join(dir, "junk.key") })).toThrow(
      /^mqtt\.key_file: .*junk\.key is not a usable private key/,
    );
    chmodSync(pki.clientKey, 0o644);
    expect(readTlsMaterial(config).warnings).toEqual([
      `mqtt.key_file: ${pki.clientKey} is readable by group or others (mode 644); run chmod 600 ${pki.clientKey}`,
    ]);
  });
});

describe("Home Assistant discovery", () => {
  it("has a sensor per channel (device classes for CO and NO2) and an alarm per gas, with availability", () => {
    const channels = channelsOf([
      {
        id: "gas0",
        driver: "sim",
        intervalMs: 1000,
        warmupMs: 0,
        channels: {},
        options: {},
      },
    ]);
    expect(channels.map((channel) => `${channel.gas}:${channel.unit}`)).toEqual([
      "co:ppm",
      "no2:ppb",
      "c2h5oh:ppm",
      "h2:ppm",
    ]);
    const messages = discoveryMessages("pi.lab 3", "sensord/pi.lab 3/status", channels);
    expect(messages.map((message) => message.topic)).toEqual([
      "homeassistant/sensor/pi_lab_3/gas0_co/config",
      "homeassistant/binary_sensor/pi_lab_3/gas0_co_alarm/config",
      "homeassistant/sensor/pi_lab_3/gas0_no2/config",
      "homeassistant/binary_sensor/pi_lab_3/gas0_no2_alarm/config",
      "homeassistant/sensor/pi_lab_3/gas0_c2h5oh/config",
      "homeassistant/binary_sensor/pi_lab_3/gas0_c2h5oh_alarm/config",
      "homeassistant/sensor/pi_lab_3/gas0_h2/config",
      "homeassistant/binary_sensor/pi_lab_3/gas0_h2_alarm/config",
    ]);
    const [coSensor, coAlarm, , , ethanol, ethanolAlarm] = messages.map(
      (message) => JSON.parse(message.payload) as Record<string, unknown>,
    );
    expect(coSensor).toEqual({
      name: "CO (gas0)",
      unique_id: "sensord_pi_lab_3_gas0_co",
      state_topic: "sensord/pi.lab 3/readings/gas0/co",
      value_template: "{{ value_json.value }}",
      unit_of_measurement: "ppm",
      device_class: "carbon_monoxide",
      state_class: "measurement",
      availability_topic: "sensord/pi.lab 3/status",
      payload_available: "online",
      payload_not_available: "offline",
      device: {
        identifiers: ["sensord_pi_lab_3"],
        name: "pi.lab 3",
        manufacturer: "sensord",
        model: "gas sensor",
      },
    });
    expect(coAlarm).toMatchObject({
      state_topic: "sensord/pi.lab 3/alarm/gas0/co",
      payload_on: "ON",
      payload_off: "OFF",
      device_class: "carbon_monoxide",
    });
    expect(ethanol).not.toHaveProperty("device_class");
    expect(ethanol).toMatchObject({ state_class: "measurement", unit_of_measurement: "ppm" });
    expect(ethanolAlarm).toMatchObject({ device_class: "gas" });
  });
});
