import { InvalidArgumentError } from "commander";
import { DURATION_HINT, parseDuration } from "../core/duration.js";

/** Commander parsers for `threshold set`: a bad value names itself and exits 2. */

export function parseFiniteNumber(text: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value)) {
    throw new InvalidArgumentError(`"${text}" is not a number`);
  }
  return value;
}

export function parseHoldTime(text: string): number {
  const ms = parseDuration(text);
  if (ms === null) {
    throw new InvalidArgumentError(`"${text}" is not a duration of 0 or more; ${DURATION_HINT}`);
  }
  return ms;
}
