/**
 * Original documents carry `createdtime` as the Pi's local wall-clock time
 * without an offset; the client names the zone in the `x-timezone` header.
 * Intl is the only zone database Node ships, so offsets come from it.
 */

export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const WALL_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/** "2021-09-03 18:14:49" -> fields; null for text of another shape or an impossible date/time. */
export function parseWallTime(text: string): WallTime | null {
  const match = WALL_TIME.exec(text);
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number);
  if (
    year === undefined ||
    month === undefined ||
    day === undefined ||
    hour === undefined ||
    minute === undefined ||
    second === undefined
  ) {
    return null;
  }
  // Date.UTC rolls 2021-02-30 over into March: a round trip exposes it.
  const probe = new Date(Date.UTC(year, month - 1, day));
  if (probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  return { year, month, day, hour, minute, second };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** A cached formatter per zone: building one costs far more than using it. */
function formatterFor(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(zone, formatter);
  }
  return formatter;
}

/** True for IANA names Node knows ("Asia/Seoul", "UTC", ...). */
export function isTimezone(zone: string): boolean {
  if (zone === "") return false;
  try {
    formatterFor(zone);
    return true;
  } catch {
    // RangeError: Invalid time zone specified
    return false;
  }
}

/** The zone's offset from UTC (ms, east positive) at the instant `epochMs`. */
function offsetAt(zone: string, epochMs: number): number {
  const fields: Record<string, number> = {};
  for (const part of formatterFor(zone).formatToParts(new Date(epochMs))) {
    if (part.type !== "literal") fields[part.type] = Number(part.value);
  }
  const local = Date.UTC(
    fields.year ?? 1970,
    (fields.month ?? 1) - 1,
    fields.day ?? 1,
    fields.hour ?? 0,
    fields.minute ?? 0,
    fields.second ?? 0,
  );
  // The formatter drops milliseconds; compare whole seconds only.
  return local - Math.floor(epochMs / 1000) * 1000;
}

/**
 * Epoch ms of a local wall time in `zone`. Two passes settle the offset
 * around DST changes; a time skipped by a spring-forward gap lands on the
 * offset in force after the gap, an ambiguous fall-back time on one of its
 * two instants.
 */
export function wallTimeToEpochMs(wall: WallTime, zone: string): number {
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  if (zone === "UTC") return asUtc;
  const firstGuess = asUtc - offsetAt(zone, asUtc);
  return asUtc - offsetAt(zone, firstGuess);
}
