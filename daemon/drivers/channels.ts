import type { SensorConfig } from "../../schemas/config-types.js";
import { DEFAULT_UNIT, GASES, type Gas } from "../../schemas/names.js";
import type { Channel } from "../../sync/mqtt/homeassistant.js";
import { DRIVERS } from "./registry.js";

/** Every (sensor, gas) the config says will be reported: the driver's gases plus configured channels. */
export function channelsOf(sensors: readonly SensorConfig[]): Channel[] {
  const channels: Channel[] = [];
  for (const sensor of sensors) {
    const gases = new Set<Gas>(DRIVERS.get(sensor.driver)?.gases?.(sensor) ?? []);
    for (const gas of GASES) if (sensor.channels[gas] !== undefined) gases.add(gas);
    for (const gas of gases) {
      channels.push({
        sensor: sensor.id,
        gas,
        unit: sensor.channels[gas]?.unit ?? DEFAULT_UNIT[gas],
      });
    }
  }
  return channels;
}
