import type { Gas, Unit } from "../../schemas/names.js";
import { readingTopic } from "./payload.js";

/** Home Assistant's sensor device classes for our gases; the others have none. */
const DEVICE_CLASS: Partial<Record<Gas, string>> = {
  co: "carbon_monoxide",
  no2: "nitrogen_dioxide",
};
/** HA's binary_sensor has a CO class; every other gas alarm is the generic `gas`. */
const ALARM_CLASS: Partial<Record<Gas, string>> = { co: "carbon_monoxide" };

export const DISCOVERY_PREFIX = "homeassistant";

/**
 * One (sensor, gas) the device reports, in the unit it is stored in. The
 * daemon lists them from its drivers and config (daemon/drivers/channels.ts).
 */
export interface Channel {
  sensor: string;
  gas: Gas;
  unit: Unit;
}

export interface DiscoveryMessage {
  topic: string;
  /** JSON text; retained. */
  payload: string;
}

/** HA object ids allow [a-zA-Z0-9_-]. */
export function nodeId(deviceId: string): string {
  return deviceId.replace(/[^a-zA-Z0-9_-]/g, "_");
}

/** Retained topic carrying "ON" / "OFF" for one gas alarm (what the binary_sensor shows). */
export function alarmTopic(deviceId: string, sensor: string, gas: string): string {
  return `sensord/${deviceId}/alarm/${sensor}/${gas}`;
}

/**
 * Discovery configs: Home Assistant creates an entity for each retained JSON
 * config under `<prefix>/<component>/<node>/<object>/config` and removes it
 * when that config is emptied. One `sensor` per channel fed by publish_readings, one `binary_sensor` per
 * gas alarm, both unavailable while the status topic says offline. Pure.
 */
export function discoveryMessages(
  deviceId: string,
  statusTopic: string,
  channels: readonly Channel[],
): DiscoveryMessage[] {
  const node = nodeId(deviceId);
  const device = {
    identifiers: [`sensord_${node}`],
    name: deviceId,
    manufacturer: "sensord",
    model: "gas sensor",
  };
  const availability = {
    availability_topic: statusTopic,
    payload_available: "online",
    payload_not_available: "offline",
  };
  return channels.flatMap((channel) => {
    const object = `${nodeId(channel.sensor)}_${channel.gas}`;
    const sensorClass = DEVICE_CLASS[channel.gas];
    const alarmClass = ALARM_CLASS[channel.gas] ?? "gas";
    const reading = {
      name: `${channel.gas.toUpperCase()} (${channel.sensor})`,
      unique_id: `sensord_${node}_${object}`,
      state_topic: readingTopic(deviceId, channel.sensor, channel.gas),
      value_template: "{{ value_json.value }}",
      unit_of_measurement: channel.unit,
      ...(sensorClass === undefined ? {} : { device_class: sensorClass }),
      state_class: "measurement",
      ...availability,
      device,
    };
    const alarm = {
      name: `${channel.gas.toUpperCase()} alarm (${channel.sensor})`,
      unique_id: `sensord_${node}_${object}_alarm`,
      state_topic: alarmTopic(deviceId, channel.sensor, channel.gas),
      payload_on: "ON",
      payload_off: "OFF",
      device_class: alarmClass,
      ...availability,
      device,
    };
    return [
      {
        topic: `${DISCOVERY_PREFIX}/sensor/${node}/${object}/config`,
        payload: JSON.stringify(reading),
      },
      {
        topic: `${DISCOVERY_PREFIX}/binary_sensor/${node}/${object}_alarm/config`,
        payload: JSON.stringify(alarm),
      },
    ];
  });
}

/** Subscription that finds this device's retained configs (to remove them when disabled). */
export function discoveryFilters(deviceId: string): string[] {
  const node = nodeId(deviceId);
  return [
    `${DISCOVERY_PREFIX}/sensor/${node}/+/config`,
    `${DISCOVERY_PREFIX}/binary_sensor/${node}/+/config`,
  ];
}
