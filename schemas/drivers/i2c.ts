import { type TArray, type TInteger, type TLiteral, type TUnion, Type } from "@sinclair/typebox";
import { hexAddress, I2C_DEFAULT_BUS } from "./names.js";

/**
 * Option keys every I2C board driver shares. The config loader validates
 * `[[sensors]]` entries against these schemas; defaults are spelled out in the
 * descriptions and applied by the read* helpers of daemon/drivers/i2c/options.ts (the house
 * convention of daemon/drivers/sim.ts), so a driver never depends on the loader filling them in.
 */
export function busOption(): TInteger {
  return Type.Integer({
    minimum: 0,
    description: `I2C bus number, i.e. /dev/i2c-<bus>. Default: ${I2C_DEFAULT_BUS} (the Raspberry Pi header bus)`,
  });
}

/** 7-bit addresses outside 0x03..0x77 are reserved (I2C specification, UM10204 section 3.1.12). */
export function addressOption(defaultAddress: number): TInteger {
  return Type.Integer({
    minimum: 0x03,
    maximum: 0x77,
    description: `7-bit I2C address; TOML takes hex, e.g. address = ${hexAddress(defaultAddress)}. Default: ${hexAddress(defaultAddress)}`,
  });
}

export function gasesOption<G extends string>(
  allowed: readonly G[],
  defaults: readonly G[],
  note = "",
): TArray<TUnion<TLiteral<G>[]>> {
  return Type.Array(Type.Union(allowed.map((gas) => Type.Literal(gas))), {
    minItems: 1,
    uniqueItems: true,
    description:
      `Gases to report, any of ${allowed.join(", ")}.${note} ` +
      `Default: [${defaults.map((gas) => `"${gas}"`).join(", ")}]`,
  });
}
