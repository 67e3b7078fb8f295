import type { SensordConfig } from "../../schemas/config-types.js";
import { DRIVERS } from "../drivers/registry.js";
import { ruleKey } from "../thresholds/rule-key.js";
import { ruleUnitProblem } from "../thresholds/validate.js";
import { channelUnit } from "./sensors.js";

/**
 * Rules that can never fire for a sensor's gas because its readings are in a
 * unit the rule cannot be converted to (a ppm rule on an uncalibrated `raw`
 * channel). Not a config error when the channel was left at the driver's
 * default, but a person must hear about it: an alarm that cannot fire is worse
 * than none.
 */
export function inapplicableRuleWarnings(config: SensordConfig): string[] {
  const warnings: string[] = [];
  for (const sensor of config.sensors) {
    const gases = DRIVERS.get(sensor.driver)?.gases?.(sensor) ?? [];
    for (const gas of gases) {
      const unit = channelUnit(sensor, gas);
      for (const rule of config.thresholds) {
        if (rule.gas !== gas || (rule.sensor !== null && rule.sensor !== sensor.id)) continue;
        if (ruleUnitProblem(rule, unit) === null) continue;
        warnings.push(
          `rule ${ruleKey(rule)} cannot apply to ${sensor.id}/${gas}, whose readings are in "${unit}": ` +
            `add calibration = { slope = ..., offset = ... } under [sensors.channels.${gas}], or a [[thresholds]] rule in ${unit}`,
        );
      }
    }
  }
  return warnings;
}
