import { type Static, Type } from "@sinclair/typebox";
import { Gas, IsoTimestamp, SensorName, Severity, Unit } from "./vocabulary.js";

/**
 * What sensord publishes on `[mqtt] topic`, one message per alert event. The
 * original system published `{"warning": "no2 warning"}`; its subscribers read
 * the `warning` key, so a raise keeps it (same text) and a clear carries
 * `cleared` instead, so no old subscriber mistakes a clear for a warning.
 */
const common = {
  id: Type.String({
    description: "The alert event's id (as in `sensorctl alerts`); subscribers dedupe by it",
  }),
  device: Type.String({ description: "device.id of the Pi" }),
  group: Type.String({ description: "device.group (the original system's groupid)" }),
  sensor: SensorName,
  gas: Gas,
  value: Type.Number({ description: "The reading that raised or cleared the alarm, in `unit`" }),
  unit: Unit,
  threshold: Type.Number({ description: "The rule's threshold, in `unit`" }),
  severity: Severity,
  ts: IsoTimestamp,
};

export const MqttRaisePayload = Type.Object(
  {
    warning: Type.String({
      pattern: "^[a-z0-9]+ warning$",
      description: 'The original message, "<gas> warning", whatever the severity',
    }),
    ...common,
  },
  { additionalProperties: false, description: "An alarm was raised" },
);
export type MqttRaisePayload = Static<typeof MqttRaisePayload>;

export const MqttClearPayload = Type.Object(
  {
    cleared: Type.String({ pattern: "^[a-z0-9]+$", description: "The gas whose alarm cleared" }),
    ...common,
  },
  { additionalProperties: false, description: "An alarm cleared" },
);
export type MqttClearPayload = Static<typeof MqttClearPayload>;

export const MqttAlertPayload = Type.Union([MqttRaisePayload, MqttClearPayload], {
  $id: "sensord.mqtt-alert.v1",
  title: "Alert event published over MQTT",
});
export type MqttAlertPayload = Static<typeof MqttAlertPayload>;

/** `publish_readings = true`: one QoS 0 message per reading on sensord/<device>/readings/<sensor>/<gas>. */
export const MqttReadingPayload = Type.Object(
  {
    id: Type.String(),
    device: Type.String(),
    sensor: SensorName,
    gas: Gas,
    value: Type.Number(),
    unit: Unit,
    ts: IsoTimestamp,
  },
  {
    $id: "sensord.mqtt-reading.v1",
    additionalProperties: false,
    title: "Reading published over MQTT",
  },
);
export type MqttReadingPayload = Static<typeof MqttReadingPayload>;
