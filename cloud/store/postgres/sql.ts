import { createHash } from "node:crypto";
import type pg from "pg";

/**
 * Epoch ms (a float8 holding an integer) to timestamptz. Exact: an
 * interval is integer microseconds and ms * 1000 stays far below 2^53.
 */
export function msToTs(expression: string): string {
  return `(timestamptz 'epoch' + (${expression})::float8 * interval '1 millisecond')`;
}

/**
 * timestamptz to epoch ms as float8, which node-postgres hands over as a
 * JS number (bigint would come as a string). Exact: extract() returns
 * numeric since PostgreSQL 14, and whole ms fit a float8.
 */
export function tsToMs(expression: string): string {
  return `(extract(epoch from ${expression}) * 1000)::float8`;
}

/**
 * Advisory lock keys, all under "sdig" (the ingest's SQLite application id)
 * in the high 32 bits so they do not collide with another application's.
 */
export const LOCKS = {
  /** Held while checking and applying migrations at open. */
  migrations: 0x73646967_0001,
  /** Held while creating or dropping a readings partition. */
  partitions: 0x73646967_0002,
  /** Held by the one process running a retention pass. */
  prune: 0x73646967_0003,
} as const;

const names = new Map<string, string>();

/**
 * A named (prepared) statement: parsed and planned once per connection
 * instead of on every call. The name is a hash of the text, so the same
 * text always gets the same name and two texts never share one.
 */
export function prepared(text: string, values: unknown[]): pg.QueryConfig<unknown[]> {
  let name = names.get(text);
  if (name === undefined) {
    name = `sd_${createHash("sha1").update(text).digest("hex").slice(0, 20)}`;
    names.set(text, name);
  }
  return { name, text, values };
}

/** `column = $n` terms for the text filters present; their values are appended to `params`. */
export function equalityTerms(
  filters: ReadonlyArray<readonly [string, string | undefined]>,
  params: unknown[],
): string[] {
  const terms: string[] = [];
  for (const [column, value] of filters) {
    if (value === undefined) continue;
    params.push(value);
    terms.push(`${column} = $${params.length}`);
  }
  return terms;
}

export function whereClause(terms: string[]): string {
  return terms.length === 0 ? "" : `WHERE ${terms.join(" AND ")}`;
}
