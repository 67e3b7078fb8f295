import type { AlertEvent } from "./alert.js";
import type { MqttAlertPayload } from "./mqtt.js";

/** AWS IoT Core rejects larger payloads; ours are ~250 bytes, so this only guards against surprises. */
export const MAX_PAYLOAD_BYTES = 128 * 1024;

/**
 * The message for one alert event (schemas/mqtt.ts); built here so the relay on the Pi and the
 * cloud's AWS IoT publisher send the same bytes. A raise keeps the
 * original `{"warning": "<gas> warning"}` text, critical or not, because the
 * original subscribers match on it; `severity` says which.
 */
export function alertPayload(
  event: AlertEvent,
  device: { id: string; group: string },
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
