import type pg from "pg";
import { ERROR_CODES } from "../../../core/errors.js";
import { inTransaction } from "./database.js";
import { PostgresStoreError } from "./errors.js";
import { LOCKS } from "./sql.js";

/** A calendar month (UTC) as one number: year * 12 + month index (0 = January). */
export type Month = number;

export function monthOf(ms: number): Month {
  const date = new Date(ms);
  return date.getUTCFullYear() * 12 + date.getUTCMonth();
}

/** Epoch ms of the month's first instant. */
export function monthStart(month: Month): number {
  return Date.UTC(Math.floor(month / 12), month % 12, 1);
}

export function partitionName(month: Month): string {
  const year = Math.floor(month / 12);
  return `readings_y${String(year).padStart(4, "0")}m${String((month % 12) + 1).padStart(2, "0")}`;
}

/** The month a partition name stands for, or null for a name that is not one of ours. */
export function monthOfPartition(name: string): Month | null {
  const match = /^readings_y(\d{4})m(\d{2})$/.exec(name);
  if (match === null) return null;
  const month = Number(match[2]);
  if (month < 1 || month > 12) return null;
  return Number(match[1]) * 12 + month - 1;
}

/** A bound in the only form every session reads the same: ISO, UTC offset. */
function boundLiteral(month: Month): string {
  const year = Math.floor(month / 12);
  if (year < 1 || year > 9999) throw new RangeError(`reading time in year ${year}`);
  return `'${String(year).padStart(4, "0")}-${String((month % 12) + 1).padStart(2, "0")}-01 00:00:00+00'`;
}

/**
 * Autovacuum after 2 % new rows instead of 20 %: index-only scans (charts,
 * newest reading) skip heap visits only for pages the visibility map marks,
 * and a month partition that is only appended to would otherwise lag by days.
 */
const PARTITION_STORAGE = "WITH (autovacuum_vacuum_insert_scale_factor = 0.02)";

/**
 * The readings partitions this process knows exist. A month is created the
 * first time a reading needs it, in its own short transaction under a
 * transaction-level advisory lock, with CREATE TABLE IF NOT EXISTS: two
 * processes racing for the same month take turns and the second finds it.
 * Kept out of the ingest transaction: creating a partition locks `readings`
 * exclusively, and inside it that lock would block every other reader and
 * writer until the whole request commits.
 */
export class Partitions {
  private readonly known = new Set<Month>();

  constructor(
    private readonly location: string,
    private readonly log: (message: string) => void,
  ) {}

  /** Makes sure every month in `months` has its partition. */
  async ensure(client: pg.ClientBase, months: Iterable<Month>): Promise<void> {
    const missing = [...new Set(months)].filter((month) => !this.known.has(month));
    if (missing.length === 0) return;
    // Another process may have made them: one catalog look-up before taking any lock.
    for (const month of await this.attached(client, missing)) this.known.add(month);
    for (const month of missing) {
      if (!this.known.has(month)) await this.create(client, month);
    }
  }

  /** Forgets months (dropped by retention, or found missing by an insert). */
  forget(months: Iterable<Month>): void {
    for (const month of months) this.known.delete(month);
  }

  private async attached(client: pg.ClientBase, months: Month[]): Promise<Month[]> {
    const result = await client.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'readings'::regclass AND NOT i.inhdetachpending AND c.relname = ANY($1::text[])`,
      [months.map(partitionName)],
    );
    return result.rows.map((row) => monthOfPartition(row.name)).filter((m) => m !== null);
  }

  private async create(client: pg.ClientBase, month: Month): Promise<void> {
    const name = partitionName(month);
    await inTransaction(client, async () => {
      await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [LOCKS.partitions]);
      // Under the lock: a retention pass may have just detached a table of that name.
      const found = await client.query<{ attached: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = c.oid AND inhparent = 'readings'::regclass) AS attached
         FROM pg_class c WHERE c.oid = to_regclass($1)`,
        [name],
      );
      const row = found.rows[0];
      if (row !== undefined && !row.attached) {
        throw new PostgresStoreError(
          ERROR_CODES.postgres.leftover,
          this.location,
          `table ${name} is left from an interrupted retention pass (detached, not dropped): the next prune drops it, or DROP TABLE ${name}`,
        );
      }
      if (row === undefined) {
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${name} PARTITION OF readings
           FOR VALUES FROM (${boundLiteral(month)}) TO (${boundLiteral(month + 1)}) ${PARTITION_STORAGE}`,
        );
        this.log(`created partition ${name}`);
      }
    });
    this.known.add(month);
  }
}

/** True for the error an insert gets when no partition holds a row's time. */
export function isMissingPartition(error: unknown): boolean {
  return (
    typeof error === "object" &&
    error !== null &&
    "code" in error &&
    error.code === "23514" &&
    error instanceof Error &&
    /no partition of relation/.test(error.message)
  );
}
