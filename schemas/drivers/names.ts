/**
 * What each driver's `[[sensors]]` keys may hold, as plain values: the option
 * schemas beside this file build on them, and the drivers read them, so a
 * running sensord gets them without loading TypeBox.
 */

/** `0x08`: how addresses read in the config (TOML takes hex) and in messages. */
export function hexAddress(address: number): string {
  return `0x${address.toString(16).padStart(2, "0")}`;
}

/** The Raspberry Pi header's I2C bus. */
export const I2C_DEFAULT_BUS = 1;

export const GM_GASES = ["no2", "c2h5oh", "voc", "co"] as const;
export type GmGas = (typeof GM_GASES)[number];

export const GM_DEFAULT_ADDRESS = 0x08;
export const GM_OUTPUTS = ["raw", "volts"] as const;
export type GmOutput = (typeof GM_OUTPUTS)[number];
export const GM_DEFAULT_OUTPUT: GmOutput = "raw";

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
export const ZE_MODES = ["active", "qa"] as const;
export type ZeMode = (typeof ZE_MODES)[number];

/** What a winsen-ze sensor runs with for the keys its entry leaves out. */
export const ZE_DEFAULTS = {
  baud: 9600,
  mode: "active",
  model: "ze07",
  /** 2.5 x the module's 1 s upload period [ZE07]: one late frame is not yet a silent module. */
  timeoutMs: 2500,
} as const satisfies { baud: number; mode: ZeMode; model: ZeModel; timeoutMs: number };

/** Mean time between the sim driver's spikes, when `spike_every` is left out. */
export const SIM_DEFAULT_SPIKE_EVERY_MS = 60_000;

/** Decimal places beyond this are implausible for a 16-bit reading: treat the frame as corrupt. */
export const MAX_DECIMALS = 3;
