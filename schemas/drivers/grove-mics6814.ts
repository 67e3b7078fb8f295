import { Type } from "@sinclair/typebox";
import { addressOption, busOption, gasesOption } from "./i2c.js";
import { MICS_DEFAULT_ADDRESS, MICS_DEFAULT_GASES, MICS_GASES, type MicsChannel } from "./names.js";

/**
 * The grove-mics6814 driver's own `[[sensors]]` keys; defaults are applied by
 * micsSettings (daemon/drivers/grove-mics6814/index.ts).
 */
const r0Option = (channel: MicsChannel) =>
  Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 0xffff,
      description:
        `R0 (clean-air reading) of the ${channel.toUpperCase()} element, overriding the board's ` +
        "stored calibration: ADC counts 1..1022 on firmware 2 (EEPROM words 8/10/12, factory 2/4/6), " +
        "the firmware's own resistance value on firmware 1 (commands 0x11-0x13). Default: read from the board",
    }),
  );

export const MicsOptionsSchema = Type.Object({
  bus: Type.Optional(busOption()),
  address: Type.Optional(addressOption(MICS_DEFAULT_ADDRESS)),
  gases: Type.Optional(
    gasesOption(
      MICS_GASES,
      MICS_DEFAULT_GASES,
      " ch4, c3h8 and c4h10 use Seeed's curves, valid only above 1000 ppm (lower readings are flagged out of range).",
    ),
  ),
  r0_nh3: r0Option("nh3"),
  r0_co: r0Option("co"),
  r0_no2: r0Option("no2"),
});
