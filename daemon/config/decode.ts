import { DURATION_HINT, parseDuration } from "../../core/duration.js";
import { parseSize, SIZE_HINT } from "../../core/size.js";
import { CONFIG_KEYS } from "../../schemas/compiled/validators.js";
import type { DecodedSections, KeyDecoding, SectionName } from "../../schemas/config.js";
import { childKey, type Problems } from "./problems.js";

/**
 * A section as schemas/config.ts declares it, from the table generated out of
 * it (no TypeBox at run time): each key as written, or its default when left
 * out, durations in ms and sizes in bytes, a problem added for one out of its
 * range. A key the shape check already reported takes the default too, so the
 * resolvers go on and report the rest of the file.
 */
export function decodeSection<Name extends SectionName>(
  name: Name,
  table: Record<string, unknown>,
  problems: Problems,
  /** Where `table` is in the file: `name`, or an entry of it such as `sensors[0]`. */
  prefix: string = name,
): DecodedSections[Name] {
  const decoded: Record<string, unknown> = {};
  for (const [key, decoding] of Object.entries(CONFIG_KEYS[name])) {
    const path = childKey(prefix, key);
    const written = problems.hasUnder(path) ? undefined : table[key];
    const value =
      (written === undefined ? undefined : decodeValue(written, decoding, path, problems)) ??
      (decoding.default === undefined
        ? undefined
        : decodeValue(decoding.default, decoding, path, problems));
    if (value !== undefined) decoded[key] = value;
  }
  // The table and the type both come from the section's schema (schemas/compile.ts).
  return decoded as DecodedSections[Name];
}

/** `value` as the daemon uses it, or undefined (with a problem added) when it cannot be used. */
function decodeValue(
  value: unknown,
  decoding: KeyDecoding,
  key: string,
  problems: Problems,
): unknown {
  if (decoding.decode === undefined) return value;
  if (typeof value !== "string") return undefined;
  const isDuration = decoding.decode === "duration";
  const parse = isDuration ? parseDuration : parseSize;
  const amount = parse(value);
  if (amount === null) {
    problems.add(
      key,
      `"${value}" is not a ${decoding.decode}; ${isDuration ? DURATION_HINT : SIZE_HINT}`,
    );
    return undefined;
  }
  const min = decoding.min === undefined ? null : parse(decoding.min);
  const max = decoding.max === undefined ? null : parse(decoding.max);
  if ((min !== null && amount < min) || (max !== null && amount > max)) {
    problems.add(key, rangeProblem(value, decoding));
    return undefined;
  }
  return amount;
}

function rangeProblem(value: string, { decode, min, max, example }: KeyDecoding): string {
  if (decode === "size") {
    return `"${value}" is too small; use at least "${min}"${example === undefined ? "" : `, e.g. "${example}"`}`;
  }
  const range = max === undefined ? `at least "${min}"` : `from "${min}" to "${max}"`;
  return `"${value}" is out of range; use a duration ${range}`;
}
