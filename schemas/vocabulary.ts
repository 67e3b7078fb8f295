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

/**
 * Why a stored reading must not be trusted as it stands: `warmup` and
 * `out_of_range` values are not live measurements; `clock_unsynced` readings
 * were stamped before the system clock was synchronized (a Pi without a
 * real-time clock runs from its last shutdown, or 1970, until NTP sets it), so
 * their `ts` may be wrong.
 */
export const READING_FLAGS = ["warmup", "out_of_range", "clock_unsynced"] as const;
export const ReadingFlag = Type.Union(READING_FLAGS.map((flag) => Type.Literal(flag)));
export type ReadingFlag = (typeof READING_FLAGS)[number];

const ISO_UTC_MS = "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$";
/** Compiled once: the check runs for every reading of every batch an ingest receives. */
const ISO_UTC_MS_PATTERN = new RegExp(ISO_UTC_MS);
// TypeBox checks `format` only for registered formats; JSON Schema consumers get it as a hint.
FormatRegistry.Set("date-time", (text) => ISO_UTC_MS_PATTERN.test(text) && isRealIsoTime(text));

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Date.parse rolls 2026-02-30 over into March 2 and accepts hour 24: a
 * reading stamped with a date that does not exist is a broken clock or a
 * broken client, never a time to store. Reads the digits of a text already
 * matching ISO_UTC_MS, so it costs no allocation per reading.
 */
function isRealIsoTime(text: string): boolean {
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const monthDays = month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
  return (
    day >= 1 &&
    day <= monthDays &&
    digits(text, 11, 2) <= 23 &&
    digits(text, 14, 2) <= 59 &&
    digits(text, 17, 2) <= 59
  );
}

function digits(text: string, at: number, length: number): number {
  let value = 0;
  for (let index = at; index < at + length; index++)
    value = value * 10 + text.charCodeAt(index) - 48;
  return value;
}

/** No C0 control characters and no DEL: they break logs, CSV and MQTT topics. */
export const PRINTABLE = "^[^\\u0000-\\u001f\\u007f]*$";

/** A device id or group on the wire: what the fleet side stores, indexes and shows. */
export const WireName = (options: { minLength: number; description: string }) =>
  Type.String({ ...options, maxLength: 64, pattern: PRINTABLE });

/** A reading's or event's id on the wire: non-empty, at most 128 characters, printable. */
export const WireId = (description: string) =>
  Type.String({ minLength: 1, maxLength: 128, pattern: PRINTABLE, description });

export const IsoTimestamp = Type.String({
  format: "date-time",
  description: "ISO 8601 UTC with milliseconds, e.g. 2026-11-26T10:40:36.123Z",
  pattern: ISO_UTC_MS,
});

export const SensorName = Type.String({
  pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
  description: "Sensor id from the config, e.g. gas0",
});
