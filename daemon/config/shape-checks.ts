import type { Problems } from "./problems.js";

/**
 * How the loader checks the shape of the file (unknown keys, types, patterns)
 * before resolving it: explained-checks.ts says what is wrong with each key
 * (TypeBox, ~12 MiB of RSS once loaded); compiled-checks.ts only answers
 * whether the shape is right, from validators generated at build time.
 */
export interface ShapeChecks {
  /** The file's top level; `[[sensors]]` entries are checked one by one below. */
  topLevel(doc: Record<string, unknown>, problems: Problems): void;
  /**
   * One `[[sensors]]` entry with its driver's keys merged in; `driver` is
   * undefined when it is missing or unknown (the common keys only).
   */
  sensorEntry(
    driver: string | undefined,
    entry: Record<string, unknown>,
    prefix: string,
    problems: Problems,
  ): void;
}
