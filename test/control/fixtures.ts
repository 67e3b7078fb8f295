import { parseConfig } from "../../daemon/config/load.js";
import { MACHINE } from "../config/helpers.js";

/** The safety preset, one config file rule replacing its co warning, one sim sensor. */
export const SAFETY_AND_CO50 = parseConfig(
  `[thresholds_preset]
preset = "safety"

[[thresholds]]
gas = "co"
value = 50
unit = "ppm"

[[sensors]]
id = "gas0"
driver = "sim"
`,
  "/etc/sensord/sensord.toml",
  { machine: MACHINE },
);
