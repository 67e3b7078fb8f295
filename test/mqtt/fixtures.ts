import type { MqttConfig } from "../../schemas/config-types.js";

export const DEVICE = { id: "pi-lab-3", group: "2", gps: null, timezone: "UTC" };

/** `[mqtt]` as the config loader resolves it for DEVICE, pointed at `url`. */
export function mqttConfig(url: string, overrides: Partial<MqttConfig> = {}): MqttConfig {
  return {
    url,
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
    ...overrides,
  };
}
