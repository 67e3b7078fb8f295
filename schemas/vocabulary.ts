import { FormatRegistry, Type } from "@sinclair/typebox";

/**
 * Gases sensord knows by name. The first four are what the original system
 * sampled; the rest are the other MiCS-6814 channels, the Grove V2 VOC
 * channel and the Winsen ZE03 family (see shared/reference/sensor-protocols.md).
 */
export const GASES = [
  "co",
  "no2",
  "c2h5oh",
  "h2",
  "nh3",
  "ch4",
  "c3h8",
  "c4h10",
  "voc",
  "h2s",
  "o2",
  "no",
] as const;
export const Gas = Type.Union(
  GASES.map((gas) => Type.Literal(gas)),
  { description: "Gas (channel) name" },
);
export type Gas = (typeof GASES)[number];

/**
 * Concentration units are convertible among themselves (ppm <-> ppb <-> %vol);
 * electrical units among themselves (V <-> mV); `raw` is an uncalibrated ADC count.
 */
export const UNITS = ["ppm", "ppb", "%", "V", "mV", "raw"] as const;
export const Unit = Type.Union(
  UNITS.map((unit) => Type.Literal(unit)),
  { description: "Measurement unit" },
);
export type Unit = (typeof UNITS)[number];

/** NO2 is reported in ppb (its limits are sub-ppm), O2 in %vol, everything else in ppm. */
export const DEFAULT_UNIT: Record<Gas, Unit> = {
  co: "ppm",
  no2: "ppb",
  c2h5oh: "ppm",
  h2: "ppm",
  nh3: "ppm",
  ch4: "ppm",
  c3h8: "ppm",
  c4h10: "ppm",
  voc: "raw",
  h2s: "ppm",
  o2: "%",
  no: "ppm",
};

export const OPS = [">=", ">", "<=", "<"] as const;
export const ComparisonOp = Type.Union(
  OPS.map((op) => Type.Literal(op)),
  { description: "Comparison that raises the alarm: value <op> threshold" },
);
export type ComparisonOp = (typeof OPS)[number];

export const SEVERITIES = ["warning", "critical"] as const;
export const Severity = Type.Union(SEVERITIES.map((severity) => Type.Literal(severity)));
export type Severity = (typeof SEVERITIES)[number];

/** Why a stored reading must not be trusted as a live measurement. */
export const READING_FLAGS = ["warmup", "out_of_range"] as const;
export const ReadingFlag = Type.Union(READING_FLAGS.map((flag) => Type.Literal(flag)));
export type ReadingFlag = (typeof READING_FLAGS)[number];

const ISO_UTC_MS = "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$";
/** Compiled once: the check runs for every reading of every batch an ingest receives. */
const ISO_UTC_MS_PATTERN = new RegExp(ISO_UTC_MS);
// TypeBox checks `format` only for registered formats; JSON Schema consumers get it as a hint.
FormatRegistry.Set(
  "date-time",
  (text) => ISO_UTC_MS_PATTERN.test(text) && Number.isFinite(Date.parse(text)),
);

export const IsoTimestamp = Type.String({
  format: "date-time",
  description: "ISO 8601 UTC with milliseconds, e.g. 2026-11-26T10:40:36.123Z",
  pattern: ISO_UTC_MS,
});

export const SensorName = Type.String({
  pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
  description: "Sensor id from the config, e.g. gas0",
});
