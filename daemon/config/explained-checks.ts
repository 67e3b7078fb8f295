import { SENSOR_ENTRY_CHECKS } from "../../schemas/compiled/validators.js";
import { ConfigTopLevel, LenientSensorEntry, sensorEntrySchema } from "../../schemas/config.js";
import { DRIVER_OPTION_SCHEMAS } from "../../schemas/drivers/options.js";
import { checkSchema } from "./check-schema.js";
import type { ShapeChecks } from "./shape-checks.js";

/** Every shape problem, one per key, each with its fix (check-schema.ts). */
export const explainedChecks: ShapeChecks = {
  topLevel(doc, problems) {
    checkSchema(ConfigTopLevel, doc, "", problems);
  },
  sensorEntry(driver, entry, prefix, problems) {
    const options = DRIVER_OPTION_SCHEMAS.find((schema) => schema.name === driver)?.optionsSchema;
    if (driver === undefined || options === undefined) {
      checkSchema(LenientSensorEntry, entry, prefix, problems);
      return;
    }
    const keys = SENSOR_ENTRY_CHECKS[driver]?.optionKeys ?? [];
    checkSchema(sensorEntrySchema(options), entry, prefix, problems, {
      keysNote: `driver "${driver}" adds: ${keys.length > 0 ? keys.join(", ") : "nothing"}`,
    });
  },
};
