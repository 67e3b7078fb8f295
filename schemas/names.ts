/**
 * The names sensord's data uses, as plain values: the daemon's run-time code
 * imports these, never the TypeBox schemas built from them in vocabulary.ts,
 * so a running sensord does not load TypeBox (~12 MiB of RSS, bench/memory.ts).
 */

/**
 * Gases sensord knows by name. The first four are what the original system
 * sampled; the rest are the other MiCS-6814 channels, the Grove V2 VOC
 * channel and the Winsen ZE03 family.
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
export type Gas = (typeof GASES)[number];

/**
 * Concentration units are convertible among themselves (ppm <-> ppb <-> %vol);
 * electrical units among themselves (V <-> mV); `raw` is an uncalibrated ADC count.
 */
export const UNITS = ["ppm", "ppb", "%", "V", "mV", "raw"] as const;
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
export type ComparisonOp = (typeof OPS)[number];

export const SEVERITIES = ["warning", "critical"] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * Why a stored reading must not be trusted as it stands: `warmup` and
 * `out_of_range` values are not live measurements; `clock_unsynced` readings
 * were stamped before the system clock was synchronized (a Pi without a
 * real-time clock runs from its last shutdown, or 1970, until NTP sets it), so
 * their `ts` may be wrong.
 */
export const READING_FLAGS = ["warmup", "out_of_range", "clock_unsynced"] as const;
export type ReadingFlag = (typeof READING_FLAGS)[number];

/** No C0 control characters and no DEL: they break logs, CSV and MQTT topics. */
export const PRINTABLE = "^[^\\u0000-\\u001f\\u007f]*$";

/** Sensor ids end up in readings, alert keys and log lines: the same rule as stored readings' `sensor`. */
export const SENSOR_ID_PATTERN = "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$";

/** Same grammar as core/duration.ts parseDuration: one or more <number><unit>. */
export const DURATION_PATTERN = "^\\s*(\\d+(\\.\\d+)?(ms|s|m|h|d))+\\s*$";
/** Same grammar as core/size.ts parseSize. */
export const SIZE_PATTERN = "^\\s*\\d+(\\.\\d+)?\\s*(B|KB|MB|GB|KiB|MiB|GiB)\\s*$";
