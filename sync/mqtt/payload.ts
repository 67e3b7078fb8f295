import type { NewReading } from "../../daemon/store/types.js";
import type { MqttReadingPayload } from "../../schemas/mqtt.js";

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
