import { Type } from "@sinclair/typebox";
import { addressOption, busOption, gasesOption } from "./i2c.js";
import { GM_DEFAULT_ADDRESS, GM_DEFAULT_OUTPUT, GM_GASES, GM_OUTPUTS } from "./names.js";

/** The grove-gm driver's own `[[sensors]]` keys; defaults are applied by gmSettings (daemon/drivers/grove-gm/index.ts). */
export const GmOptionsSchema = Type.Object({
  bus: Type.Optional(busOption()),
  address: Type.Optional(addressOption(GM_DEFAULT_ADDRESS)),
  gases: Type.Optional(
    gasesOption(
      GM_GASES,
      GM_GASES,
      " Elements: no2 GM-102B, c2h5oh GM-302B, voc GM-502B, co GM-702B.",
    ),
  ),
  output: Type.Optional(
    Type.Union(
      GM_OUTPUTS.map((output) => Type.Literal(output)),
      {
        description:
          'What to report: "raw" (the 10-bit ADC count, unit "raw") or "volts" (adc * 3.3 / 1023, ' +
          'unit "V"). The vendor publishes no ppm curve for these elements: to get ppm, give the ' +
          "channel a calibration = { slope, offset } measured against a reference. " +
          `Default: "${GM_DEFAULT_OUTPUT}"`,
      },
    ),
  ),
});
