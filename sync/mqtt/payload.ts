import type { DeviceConfig } from "../../daemon/config/types.js";
import type { NewReading } from "../../daemon/store/types.js";
import type { AlertEvent } from "../../schemas/alert.js";
import type { MqttAlertPayload, MqttReadingPayload } from "../../schemas/mqtt.js";

/** AWS IoT Core rejects larger payloads; ours are ~250 bytes, so this only guards against surprises. */
export const MAX_PAYLOAD_BYTES = 128 * 1024;

/**
 * The message for one alert event (schemas/mqtt.ts). A raise keeps the
 * original `{"warning": "<gas> warning"}` text, critical or not, because the
 * original subscribers match on it; `severity` says which.
 */
export function alertPayload(
  event: AlertEvent,
  device: Pick<DeviceConfig, "id" | "group">,
): MqttAlertPayload {
  const fields = {
    id: event.id,
    device: device.id,
    group: device.group,
    sensor: event.sensor,
    gas: event.gas,
    value: event.value,
    unit: event.unit,
    threshold: event.threshold,
    severity: event.severity,
    ts: event.ts,
  };
  return event.kind === "raise"
    ? { warning: `${event.gas} warning`, ...fields }
    : { cleared: event.gas, ...fields };
}

export function readingPayload(
  reading: NewReading,
  id: string,
  deviceId: string,
): MqttReadingPayload {
  return {
    id,
    device: deviceId,
    sensor: reading.sensor,
    gas: reading.gas,
    value: reading.value,
    unit: reading.unit,
    ts: new Date(reading.tsMs).toISOString(),
  };
}

/** Where `publish_readings` sends a channel's readings (and Home Assistant reads them). */
export function readingTopic(deviceId: string, sensor: string, gas: string): string {
  return `sensord/${deviceId}/readings/${sensor}/${gas}`;
}
