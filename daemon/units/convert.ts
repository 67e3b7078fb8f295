import type { Unit } from "../../schemas/vocabulary.js";

/**
 * Unit conversion between the units in schemas/vocabulary.ts.
 *
 * Two families convert among themselves: concentrations (ppb, ppm, %vol) and
 * voltages (mV, V). `raw` is an uncalibrated ADC count and converts to nothing
 * but itself: turning it into ppm needs a per-board calibration curve, which is
 * a driver's job (the Grove V2 board's vendor publishes no such curve at all).
 */
export type UnitFamily = "concentration" | "voltage" | "raw";

/**
 * Size of each unit in its family's smallest unit. Every factor is an exact
 * power of ten, so `convert` only ever multiplies or divides by an exactly
 * representable integer: the result is the correctly rounded double
 * (88 ppb -> 0.088 ppm gives the same double as the literal 0.088).
 * 1 %vol = 10,000 ppm = 10,000,000 ppb (parts per hundred vs per million).
 */
const SCALE: Record<Unit, { family: UnitFamily; factor: number }> = {
  ppb: { family: "concentration", factor: 1 },
  ppm: { family: "concentration", factor: 1_000 },
  "%": { family: "concentration", factor: 10_000_000 },
  mV: { family: "voltage", factor: 1 },
  V: { family: "voltage", factor: 1_000 },
  raw: { family: "raw", factor: 1 },
};

export function unitFamily(unit: Unit): UnitFamily {
  return SCALE[unit].family;
}

/** True when a value in `from` can be expressed in `to` (same family, or the same unit). */
export function canConvert(from: Unit, to: Unit): boolean {
  return from === to || SCALE[from].family === SCALE[to].family;
}

/**
 * `value` in `from` expressed in `to`; null when the units are not
 * convertible (e.g. raw <-> ppm, ppm <-> V). Identity returns `value`
 * unchanged, NaN included: validity is the caller's concern.
 */
export function convert(value: number, from: Unit, to: Unit): number | null {
  if (from === to) return value;
  const source = SCALE[from];
  const target = SCALE[to];
  if (source.family !== target.family) return null;
  // Divide rather than multiply by a fraction: 1/1000 is not exact in binary.
  return source.factor >= target.factor
    ? value * (source.factor / target.factor)
    : value / (target.factor / source.factor);
}
