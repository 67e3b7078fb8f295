import type { MqttReadingPayload } from "../../schemas/mqtt.js";
import type { NewReading } from "../../schemas/records.js";

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
