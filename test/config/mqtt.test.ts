import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderConfig } from "../../daemon/config/render.js";
import { load, loadText, problemsOf, tempDir, writeConfig } from "./helpers.js";

const BASE = '[device]\nid = "pi-lab-3"\n\n[[sensors]]\nid = "gas0"\ndriver = "sim"\n';

describe("[mqtt]", () => {
  it("is absent by default: alerts are not relayed", () => {
    expect(loadText(BASE).mqtt).toBeNull();
  });

  it("fills in the defaults: client id = device id, the original topic, {device} in the status topic", () => {
    expect(loadText(`${BASE}\n[mqtt]\nurl = "mqtt://127.0.0.1:1883"\n`).mqtt).toEqual({
      url: "mqtt://127.0.0.1:1883",
      clientId: "pi-lab-3",
      topic: "pi/1",
      statusTopic: "sensord/pi-lab-3/status",
      qos: 1,
      caFile: null,
      certFile: null,
      keyFile: null,
      username: null,
      passwordFile: null,
      alpn: null,
      publishReadings: false,
      homeassistant: false,
    });
  });

  it("resolves file paths against the config folder and round-trips through config check", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "password"), "secret\n");
    const path = writeConfig(
      `${BASE}\n[mqtt]\nurl = "mqtts://xxxx-ats.iot.ap-northeast-2.amazonaws.com:443"\nclient_id = "thing-3"\n` +
        `topic = "alerts/lab"\nstatus_topic = "fleet/{device}/state"\nqos = 0\nca_file = "AmazonRootCA1.pem"\n` +
        `cert_file = "device.pem.crt"\nkey_file = "private.pem.key"\nusername = "u"\npassword_file = "password"\n` +
        `alpn = "x-amzn-mqtt-ca"\npublish_readings = true\nhomeassistant = true\n`,
      "sensord.toml",
      dir,
    );
    const config = load(path);
    expect(config.mqtt).toEqual({
      url: "mqtts://xxxx-ats.iot.ap-northeast-2.amazonaws.com:443",
      clientId: "thing-3",
      topic: "alerts/lab",
      statusTopic: "fleet/pi-lab-3/state",
      qos: 0,
      caFile: join(dir, "AmazonRootCA1.pem"),
      certFile: join(dir, "device.pem.crt"),
      keyFile: join(dir, "private.pem.key"),
      username: "u",
      passwordFile: join(dir, "password"),
      alpn: "x-amzn-mqtt-ca",
      publishReadings: true,
      homeassistant: true,
    });
    const rendered = renderConfig(config);
    expect(rendered).not.toContain("secret");
    expect(load(writeConfig(rendered, "again.toml", dir)).mqtt).toEqual(config.mqtt);
  });

  it("names every bad key with its fix", () => {
    const problems = problemsOf(
      `${BASE}\n[mqtt]\nurl = "https://broker"\ntopic = "pi/#"\nqos = 2\ncert_file = "c.pem"\n` +
        `password_file = "/nonexistent/password"\ntopik = "x"\n`,
    );
    expect(problems.get("mqtt.url")).toBe(
      '"https://broker" is not an mqtt://, mqtts://, ws:// or wss:// URL, e.g. "mqtts://broker.example:8883"',
    );
    expect(problems.get("mqtt.topic")).toContain("contains + or #");
    expect(problems.has("mqtt.qos")).toBe(true);
    expect(problems.get("mqtt.key_file")).toBe(
      "missing; cert_file needs the private key it was issued for",
    );
    expect(problems.get("mqtt.username")).toBe(
      "missing; password_file needs a username to go with it",
    );
    expect(problems.get("mqtt.password_file")).toContain("cannot read /nonexistent/password");
    expect(problems.has("mqtt.topik")).toBe(true);
    expect(problemsOf(`${BASE}\n[mqtt]\nqos = 1\n`).get("mqtt.url")).toContain("missing;");
  });
});

describe("[mqtt]: names that end up in topics", () => {
  const withDevice = (id: string, mqtt = "") =>
    `[device]\nid = ${JSON.stringify(id)}\n\n[[sensors]]\nid = "gas0"\ndriver = "sim"\n\n[mqtt]\nurl = "mqtt://127.0.0.1:1883"\n${mqtt}`;

  it.each([["lab/#/+"], ["lab/3"], ["lab+3"], ["lab#3"]])(
    "refuses device.id %j with [mqtt]: it builds sensord/<device>/... topics",
    (id) => {
      const message = problemsOf(withDevice(id)).get("device.id");
      expect(message).toContain(JSON.stringify(id));
      expect(message).toContain('"/", "+" and "#"');
      expect(message).toContain("sensord/<device>/status");
      expect(message).toContain('letters, digits, "-", "_" and "."');
    },
  );

  it("keeps allowing such ids without [mqtt] (they only travel in uploads)", () => {
    expect(
      loadText('[device]\nid = "lab/3"\n\n[[sensors]]\nid = "gas0"\ndriver = "sim"\n').device.id,
    ).toBe("lab/3");
  });

  it("refuses a NUL (any control character) in device.id, with or without [mqtt]", () => {
    expect(problemsOf(withDevice("lab\u00003")).get("device.id")).toContain("control character");
  });

  it("refuses + and # in client_id (mosquitto denies every message of such a client)", () => {
    const message = problemsOf(withDevice("pi-lab-3", 'client_id = "pi+3"\n')).get(
      "mqtt.client_id",
    );
    expect(message).toContain('"pi+3"');
    expect(message).toContain("+");
    expect(
      problemsOf(withDevice("pi-lab-3", 'client_id = "pi\\u00003"\n')).get("mqtt.client_id"),
    ).toContain("control character");
  });

  it("refuses control characters in topic and status_topic", () => {
    const problems = problemsOf(
      withDevice("pi-lab-3", 'topic = "pi/\\u00001"\nstatus_topic = "s/{device}/\\u0007"\n'),
    );
    expect(problems.get("mqtt.topic")).toContain("control character");
    expect(problems.get("mqtt.status_topic")).toContain("control character");
  });

  it("says which values mqtt.qos allows", () => {
    expect(problemsOf(withDevice("pi-lab-3", "qos = 2\n")).get("mqtt.qos")).toBe(
      "must be 0 or 1, got integer 2",
    );
  });
});
