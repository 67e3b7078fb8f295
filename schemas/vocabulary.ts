import { FormatRegistry, Type } from "@sinclair/typebox";
import type * as Names from "./names.js";
import {
  GASES,
  OPS,
  PRINTABLE,
  READING_FLAGS,
  SENSOR_ID_PATTERN,
  SEVERITIES,
  UNITS,
} from "./names.js";

/**
 * The TypeBox schemas of sensord's names, for the wire formats, the JSON
 * Schema export and config error messages; the plain lists live in names.ts.
 */

export {
  DEFAULT_UNIT,
  DURATION_PATTERN,
  GASES,
  OPS,
  PRINTABLE,
  READING_FLAGS,
  SENSOR_ID_PATTERN,
  SEVERITIES,
  SIZE_PATTERN,
  UNITS,
} from "./names.js";

export const Gas = Type.Union(
  GASES.map((gas) => Type.Literal(gas)),
  { description: "Gas (channel) name" },
);
export type Gas = Names.Gas;

export const Unit = Type.Union(
  UNITS.map((unit) => Type.Literal(unit)),
  { description: "Measurement unit" },
);
export type Unit = Names.Unit;

export const ComparisonOp = Type.Union(
  OPS.map((op) => Type.Literal(op)),
  { description: "Comparison that raises the alarm: value <op> threshold" },
);
export type ComparisonOp = Names.ComparisonOp;

export const Severity = Type.Union(SEVERITIES.map((severity) => Type.Literal(severity)));
export type Severity = Names.Severity;

export const ReadingFlag = Type.Union(READING_FLAGS.map((flag) => Type.Literal(flag)));
export type ReadingFlag = Names.ReadingFlag;

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
  pattern: SENSOR_ID_PATTERN,
  description: "Sensor id from the config, e.g. gas0",
});
