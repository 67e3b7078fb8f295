/**
 * What each driver's `[[sensors]]` keys may hold, as plain values: the option
 * schemas beside this file build on them, and the drivers read them, so a
 * running sensord gets them without loading TypeBox.
 */

/** `0x08`: how addresses read in the config (TOML takes hex) and in messages. */
export function hexAddress(address: number): string {
  return `0x${address.toString(16).padStart(2, "0")}`;
}

export const GM_GASES = ["no2", "c2h5oh", "voc", "co"] as const;
export type GmGas = (typeof GM_GASES)[number];

export const GM_DEFAULT_ADDRESS = 0x08;

/** Gases the MiCS-6814 curves cover; the driver reports any subset of them, in ppm. */
export const MICS_GASES = ["co", "no2", "c2h5oh", "h2", "nh3", "ch4", "c3h8", "c4h10"] as const;
export type MicsGas = (typeof MICS_GASES)[number];
export const MICS_DEFAULT_GASES: readonly MicsGas[] = ["co", "no2", "c2h5oh", "h2"];

/** The MiCS-6814 elements, named as the `r0_<element>` keys name them. */
export type MicsChannel = "nh3" | "co" | "no2";

export const MICS_DEFAULT_ADDRESS = 0x04;

export type ZeModel = "ze07" | "ze15" | "ze03";
export type ZeGas = "co" | "h2" | "nh3" | "h2s" | "o2" | "no2" | "no";
export const ZE_GASES: readonly ZeGas[] = ["co", "h2", "nh3", "h2s", "o2", "no2", "no"];
export const ZE_MODELS: readonly ZeModel[] = ["ze07", "ze15", "ze03"];

/** Decimal places beyond this are implausible for a 16-bit reading: treat the frame as corrupt. */
export const MAX_DECIMALS = 3;
