import { InvalidArgumentError } from "commander";
import { DURATION_HINT, parseDuration } from "../core/duration.js";
import { GASES, type Gas } from "../schemas/vocabulary.js";

/** Commander argument parsers: a bad value names itself and exits 2 before anything runs. */

export function parseGas(text: string): Gas {
  const gas = GASES.find((known) => known === text.toLowerCase());
  if (!gas)
    throw new InvalidArgumentError(`unknown gas "${text}"; known gases: ${GASES.join(", ")}`);
  return gas;
}

export function parsePositiveInt(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) {
    throw new InvalidArgumentError(`"${text}" is not a positive whole number`);
  }
  return value;
}

/** `--since 10m` (a duration back from now) or `--since 2026-11-26T10:00:00Z` (a time). */
export function parseSince(text: string, now: () => number = Date.now): number {
  const duration = parseDuration(text);
  if (duration !== null) return now() - duration;
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const time = Date.parse(text);
    if (Number.isFinite(time)) return time;
  }
  throw new InvalidArgumentError(
    `"${text}" is neither a duration (${DURATION_HINT}) nor an ISO 8601 time`,
  );
}

export function choice<T extends string>(allowed: readonly T[]): (text: string) => T {
  return (text) => {
    const found = allowed.find((option) => option === text);
    if (!found) throw new InvalidArgumentError(`"${text}" is not one of ${allowed.join(", ")}`);
    return found;
  };
}
